"""campus-watcher: watch a university's official accounts and those that impersonate it."""

__version__ = "0.1.0"
