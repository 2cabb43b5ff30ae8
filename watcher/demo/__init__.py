"""``watcher demo``: a self-contained sandbox that shows the product on 127.0.0.1."""
