"""The operator's own keys: a `[keymap]` table in the config file, by binding id.

```toml
[keymap]
step-run = "ctrl+r"        # ids as listed by the help screen's bindings (BINDINGS ids)
step-tick = "space,t"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path


def load_keymap(config_file: Path | None) -> tuple[dict[str, str], str | None]:
    """The keymap from the config file and, if it is unusable, why (one line)."""
    if config_file is None or not config_file.is_file():
        return {}, None
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, f"keymap not read from {config_file}: {error}"
    table = data.get("keymap", {})
    if not isinstance(table, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in table.items()
    ):
        return {}, f"[keymap] in {config_file} must map binding ids to key strings"
    return dict(table), None
