"""Drill mode: scenarios, the Docker sandbox they run in, load, checks and scores.

`runbook.drills.runner.Drill` ties them together; see docs/drills.md.
"""
