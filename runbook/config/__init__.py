"""The operator's TOML config, read by one loader into one frozen `Config`, a section per table.

```toml
[environments.Production]            # Config.environments, Config.environment(name)
production = true                    # operators type the name to confirm
env = { COMPOSE_PROJECT_NAME = "monkeytown" }
docker_host = "ssh://deploy@prod"          # or docker_hosts = ["unix:///...", "tcp://...", "ctx"]
prometheus_url = "http://prom:9090"
base_url = "https://monkeytown.example"

[environments.Production.sources]    # Config.sources: merged over [sources] per environment
query_preset = "cadvisor"
[environments.Production.queries]
"CPU Usage" = '100 * max(rate(container_cpu_usage_seconds_total[1m]))'

[secrets]                            # Config.secrets
patterns = ["ghp_[A-Za-z0-9]{36}"]   # regexes masked wherever they appear in output
names = ["DSN"]                      # extra name fragments marking env vars as secret

[execution]                          # Config.execution
default_timeout_s = 600
grace_s = 5
audit_file = "/var/log/runbook/execution/audit.jsonl"
state_dir = "~/.local/state/runbook-console"
lock_dir = "/run/lock/runbook-console"
verify_timeout_s = 60            # cap for an `rb-verify` command (never above the step's timeout)
keep_runs = 500                  # run directories kept whatever their age
keep_runs_days = 30              # and finished runs younger than this are kept too

[sources]                            # Config.sources, every environment
health_interval_s = 5

[keymap]                             # Config.keymap: binding id -> keys, checked by the console
step-tick = "space,t"
```

docs/config.md lists every key of every section.
"""

from runbook.config.loader import load_config
from runbook.config.sections import (
    DEFAULT_BASE_URL,
    DEFAULT_DOCKER_HOST,
    DEFAULT_ENVIRONMENT,
    Config,
    ConfigError,
    EnvironmentConfig,
    ExecutionConfig,
    KeymapConfig,
    SecretsConfig,
    SourcesConfig,
    SourceSettings,
    host_label,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DOCKER_HOST",
    "DEFAULT_ENVIRONMENT",
    "Config",
    "ConfigError",
    "EnvironmentConfig",
    "ExecutionConfig",
    "KeymapConfig",
    "SecretsConfig",
    "host_label",
    "SourceSettings",
    "SourcesConfig",
    "load_config",
]
