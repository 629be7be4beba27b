"""The operator's own keys: the config's `[keymap]` section, by binding id.

```toml
[keymap]
step-run = "ctrl+r"        # ids of the bindings (Binding(..., id=...)), docs/config.md
step-tick = "space,t"
```
"""

from __future__ import annotations

from runbook.config import Config


def load_keymap(config: Config) -> tuple[dict[str, str], str | None]:
    """The keymap of the loaded config and, if its table is unusable, why (one line)."""
    return dict(config.keymap.bindings), config.keymap.problem
