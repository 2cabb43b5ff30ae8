"""From detection to removal: complaint packs for the platforms' own channels (``pack``), the
channels and their categories (``channels``), and the cases that follow a report until the
platform removes the account (``cases``).

Flow: findings → takedown (a reviewer's 已向平台举报 opens a case) → the watch round of the
platform re-checks the account (``watcher.rounds``) → ``cases.after_check`` closes it as 已下架.
"""
