"""Running crawls: run records, the subprocess runner, and what follows a crawl."""
