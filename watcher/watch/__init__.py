"""Watching registered accounts: what changed between crawls, and what the rules say about it."""
