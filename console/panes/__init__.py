"""Live panes: containers, logs, health and threshold gauges, beside the checklist.

They render what the sources in `runbook.sources` post; `LivePanes` (dock.py) holds all four.
"""
