"""Stats of a container on this machine, read from its cgroup files instead of the engine.

dockerd reads the same files for a stats request, but only at its collector's next
one-second tick, through containerd and the container's shim. Reading them here costs
the engine nothing and answers at once, so a row's first CPU figure needs two reads a
fraction of a second apart instead of two engine ticks. The document returned has the
shape of the engine's (`cpu_stats`, `memory_stats`, `networks`), so one computation
serves both; a container whose cgroup cannot be found or read (a remote engine, a
cgroup namespace, a process gone) is left to the engine.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

NANOSECONDS = 1_000_000_000
CPU_KEYS = frozenset({"usage_usec"})
MEMORY_KEYS = frozenset({"inactive_file", "total_inactive_file"})
"""What `stats.memory_used` takes from memory.stat, as the docker CLI does."""
SYSTEM_CPU_REUSE_S = 0.05
"""A round of rows shares one read of the host's CPU time taken this recently."""


class CgroupReader:
    """Reads containers' CPU, memory and network counters from cgroup v1 or v2 files."""

    def __init__(self, cgroup_root: Path = Path("/sys/fs/cgroup"), proc: Path = Path("/proc")):
        self.cgroup_root = cgroup_root
        self.proc = proc
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._cpus = os.cpu_count() or 1
        self._host_net = self._net_namespace("self")
        self._memory_total = self._read_memory_total()
        self._paths: dict[int, dict[str, str]] = {}
        """Each process's cgroup paths: a process stays in its cgroup, so read once."""
        self._system: tuple[float, int] = (0.0, 0)
        """(monotonic time, host CPU ns) of the last /proc/stat read."""

    def read(self, container_id: str, pid: int) -> dict[str, Any] | None:
        """A stats document for this container's process, or None when its cgroup is unknown."""
        if pid <= 0 or not container_id:
            return None
        try:
            cpu, memory = self._cached_cpu_and_memory(pid, container_id)
            if cpu is None:
                paths = self._cgroup_paths(pid)
                cpu, memory = self._cpu_and_memory(paths, container_id)
                if cpu is None:
                    return None
                if len(self._paths) > 4096:
                    self._paths.clear()
                self._paths[pid] = paths
            system = self._system_cpu_ns()
        except (OSError, ValueError):
            return None
        return {
            "cpu_stats": {
                "cpu_usage": {"total_usage": cpu},
                "system_cpu_usage": system,
                "online_cpus": self._cpus,
            },
            "memory_stats": memory,
            "networks": self._networks(pid),
        }

    def _cached_cpu_and_memory(
        self, pid: int, container_id: str
    ) -> tuple[int | None, dict[str, Any]]:
        """From the paths read before for this process; (None, {}) when they no longer hold
        (a reused pid, a cgroup gone): the caller reads them again."""
        paths = self._paths.get(pid)
        if paths is None:
            return None, {}
        try:
            found = self._cpu_and_memory(paths, container_id)
        except (OSError, ValueError):
            found = (None, {})
        if found[0] is None:
            del self._paths[pid]
        return found

    def _cgroup_paths(self, pid: int) -> dict[str, str]:
        """Controller name ("" for the v2 hierarchy) -> the process's cgroup path."""
        paths: dict[str, str] = {}
        for line in (self.proc / str(pid) / "cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
        return paths

    def _cpu_and_memory(
        self, paths: dict[str, str], container_id: str
    ) -> tuple[int | None, dict[str, Any]]:
        # The container's id in the path guards against a reused pid and a cgroup namespace.
        v1 = paths.get("cpuacct")
        if v1 is not None and container_id in v1:
            for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"):
                usage_file = self.cgroup_root / mount / v1.lstrip("/") / "cpuacct.usage"
                if usage_file.exists():
                    cpu = int(usage_file.read_text())
                    return cpu, self._memory_v1(paths.get("memory", v1))
            return None, {}
        v2 = paths.get("")
        if v2 is not None and container_id in v2:
            directory = self.cgroup_root / v2.lstrip("/")
            stat = _key_values(directory / "cpu.stat", CPU_KEYS)
            if "usage_usec" not in stat:
                return None, {}
            return stat["usage_usec"] * 1000, self._memory_v2(directory)
        return None, {}

    def _memory_v1(self, path: str) -> dict[str, Any]:
        directory = self.cgroup_root / "memory" / path.lstrip("/")
        with contextlib.suppress(OSError, ValueError):
            usage = int((directory / "memory.usage_in_bytes").read_text())
            limit = int((directory / "memory.limit_in_bytes").read_text())
            stats = _key_values(directory / "memory.stat", MEMORY_KEYS)
            return {"usage": usage, "limit": self._capped(limit), "stats": stats}
        return {}

    def _memory_v2(self, directory: Path) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError):
            usage = int((directory / "memory.current").read_text())
            raw_limit = (directory / "memory.max").read_text().strip()
            limit = self._memory_total if raw_limit == "max" else int(raw_limit)
            stats = _key_values(directory / "memory.stat", MEMORY_KEYS)
            return {"usage": usage, "limit": self._capped(limit), "stats": stats}
        return {}

    def _capped(self, limit: int) -> int:
        """As dockerd does: no limit (a huge number) shows as the host's memory."""
        return min(limit, self._memory_total) if self._memory_total else limit

    def _system_cpu_ns(self) -> int:
        """The host's CPU time as dockerd counts it: /proc/stat's first seven cpu fields.

        Read once for a round of rows, as dockerd reads it once per collection (it moves
        in clock ticks, 10 ms, anyway)."""
        read_at, value = self._system
        now = time.monotonic()
        if now - read_at < SYSTEM_CPU_REUSE_S:
            return value
        with (self.proc / "stat").open() as stat:
            fields = stat.readline().split()
        value = sum(int(value) for value in fields[1:8]) * NANOSECONDS // self._ticks
        self._system = (now, value)
        return value

    def _networks(self, pid: int) -> dict[str, Any] | None:
        """Interfaces of the container's own network namespace; None with host networking."""
        namespace = self._net_namespace(str(pid))
        if namespace is None or namespace == self._host_net:
            return None
        interfaces: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in (self.proc / str(pid) / "net" / "dev").read_text().splitlines()[2:]:
                name, counters = line.split(":", 1)
                values = counters.split()
                if name.strip() != "lo":
                    interfaces[name.strip()] = {
                        "rx_bytes": int(values[0]),
                        "tx_bytes": int(values[8]),
                    }
        return interfaces or None

    def _net_namespace(self, pid: str) -> str | None:
        try:
            return os.readlink(self.proc / pid / "ns" / "net")
        except OSError:
            return None

    def _read_memory_total(self) -> int:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in (self.proc / "meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
        return 0


def _key_values(path: Path, wanted: frozenset[str]) -> dict[str, int]:
    """The `wanted` keys of a cgroup "key value" file (cpu.stat, memory.stat): read for
    every row on screen every round, so the other lines are not even converted."""
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key in wanted and value.isdigit():
            values[key] = int(value)
    return values
