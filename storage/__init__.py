"""The storage layer: tables, queries, engines and migrations; it imports nothing else of newswatch."""
