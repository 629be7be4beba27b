"""Drill mode: scenarios, the Docker sandbox they run in, load, checks and scores.

`runbook.drill.Drill` ties them together; see docs/drills.md.
"""
