"""newswatch worker: poll feeds, fetch and extract pages, match watch rules, store hits, hand over alerts."""
