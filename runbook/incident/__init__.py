"""Incident mode: the incident and its deadlines, its store, timeline events and report."""
