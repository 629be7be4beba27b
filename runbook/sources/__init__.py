"""Live data sources: Docker containers, stats and logs, HTTP health, Prometheus gauges.

Every source is plain Python (threads for the blocking Docker SDK and
prometheus-api-client, asyncio for httpx) and reports through a callback, so the
TUI, the CLI and the tests all drive the same code.
"""
