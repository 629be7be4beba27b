"""Files the console keeps: where they live (paths), atomic replaces, append-only JSON Lines,
and checklist sessions."""
