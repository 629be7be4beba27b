"""The Textual user interface of the runbook console."""
