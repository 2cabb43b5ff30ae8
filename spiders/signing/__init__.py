"""Request signatures that are public algorithms (computed here, no browser needed)."""
