"""Crawl rounds: spiders → rounds → store → analysis.

A round crawls all targets of one mode on one platform (the keywords of a discovery, the
accounts of a watch, the posts of a check) in one crawl process. :mod:`.plan` says which rounds
there are, :mod:`.engine` runs one, :mod:`.process` is the crawl process, :mod:`.pipeline`
stores what it finds and closes each target's run, :mod:`.analysis` analyses each target as
soon as it is in, :mod:`.records` keeps rounds, runs and each platform's cool-down, and
:mod:`.scans` runs the rounds of an on-demand scan.
"""
