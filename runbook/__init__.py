"""Headless core of the runbook console: parsing, model, execution, data sources.

Nothing in this package imports textual or rich; the CLI, the TUI and the
tests all reach the same code.
"""

__version__ = "0.1.0"
