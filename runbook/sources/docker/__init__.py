"""Containers from a Docker Engine, one module per job.

- `endpoint`: where the engine is (URL or context) and whether its socket can be used;
- `engine`: the `Engine` of one host and its watchdog, which knows whether it answers;
- `streams`: closing a stream from another thread so a blocked read returns;
- `threads`: daemon-thread helpers that never hold up exit;
- `containers`: the container list, from a snapshot plus the event stream;
- `stats`: CPU, memory and network figures for the containers on screen;
- `fleet`: the engines of one environment side by side, each on threads of its own;
- `services`: Docker Swarm services, tasks and nodes (`orchestrator = "swarm"`);
- `service_logs`: a swarm service's logs, each line naming its task.

Container actions are not run here: `runbook.execution.container_actions` turns
them into plans for the executor. Logs are followed by `runbook.sources.logs`.
"""
