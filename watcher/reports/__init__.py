"""Reports for the department: the annual review, the periodic assessment, the influence leaderboards."""
