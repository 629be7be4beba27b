"""The runbook as a document: Markdown in, the model out (blocks, tables, values, commands,
alerts), and what it names that its repository lacks (drift)."""
