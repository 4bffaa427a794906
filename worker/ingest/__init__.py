"""Ingest: everything between a URL or a file and an `Article` (fetch, feeds, pages, text files, identity, stories)."""
