"""Where a Docker Engine is: a URL or context name made an endpoint, and a local socket checked.

`preflight` names a start-up problem with a unix socket (missing, not a socket,
no permission), or an ssh:// engine without the SDK's SSH transport, together with
what the operator can do about it.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path
from typing import Any

from docker.errors import DockerException


def preflight(base_url: str) -> str | None:
    """A start-up problem with a local socket or an ssh:// engine and what to do, or None."""
    if base_url.startswith("ssh://"):
        if importlib.util.find_spec("paramiko") is None:
            return f"{base_url} needs the paramiko package (pip install 'runbook-console[ssh]')"
        return None
    if not base_url.startswith(("unix://", "/")):
        return None
    path = Path(base_url.removeprefix("unix://"))
    if not path.exists():
        return (
            f"socket {path} does not exist: start the engine (systemctl start docker) "
            f"or set docker_host for this environment in the config"
        )
    if not stat.S_ISSOCK(path.stat().st_mode):
        return f"{path} is not a socket: check docker_host in the config"
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"permission denied on {path}: add your user to the docker group "
            f"(sudo usermod -aG docker $USER, then log in again) or run as root"
        )
    return None


def address_problem(engine: str) -> str | None:
    """What is wrong with how an engine is named, without connecting to it; None when fine.

    A unix socket must exist and be a socket; tcp:// needs a host and a port; ssh:// a
    host (an optional user and port), nothing after it; a bare name must be a context
    in the Docker CLI's config (DOCKER_CONFIG, else ~/.docker).
    """
    from urllib.parse import urlsplit

    if engine.startswith(("unix://", "/")):
        path = Path(engine.removeprefix("unix://"))
        if not path.exists():
            return f"socket {path} does not exist"
        if not stat.S_ISSOCK(path.stat().st_mode):
            return f"{path} is not a socket"
        return None
    if "://" not in engine:
        return _context_problem(engine)
    scheme = engine.split("://", 1)[0]
    if scheme not in ("tcp", "ssh"):
        return f"unknown scheme {scheme}://: use unix://, tcp://, ssh:// or a Docker context name"
    try:
        parts = urlsplit(engine)
        port = parts.port
    except ValueError as error:
        return f"not a valid {scheme}:// address ({error})"
    if not parts.hostname:
        return f"{scheme}:// needs a host ({scheme}://HOST" + (":PORT)" if scheme == "tcp" else ")")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{scheme}:// takes nothing after the host and port"
    if scheme == "tcp":
        if parts.username or parts.password:
            return "tcp:// takes no user: tcp://HOST:PORT"
        if port is None:
            return "tcp:// needs a port: tcp://HOST:PORT (2375, or 2376 with TLS)"
    elif parts.password:
        return "ssh:// takes no password in the address: use a key or the SSH agent"
    return None


def _context_problem(name: str) -> str | None:
    if name == "default":
        return None
    from docker.context import ContextAPI  # only contexts need the context store

    try:
        context = ContextAPI.get_context(name)
    except Exception as error:  # noqa: BLE001 - a broken context store is the problem told
        return f"Docker context {name!r} cannot be read: {error}"
    if context is None:
        return f"no Docker context named {name!r} (docker context ls lists them)"
    return None


def resolve_host(docker_host: str) -> str:
    """A Docker context name becomes its endpoint; URLs pass through."""
    return resolve_endpoint(docker_host)[0]


def resolve_endpoint(docker_host: str) -> tuple[str, Any]:
    """(base URL, TLS config or False) for a URL or a Docker context name.

    A tcp:// host takes DOCKER_TLS_VERIFY/DOCKER_CERT_PATH from the environment, as
    `docker --host tcp://...` does; a context brings its own TLS material.
    """
    if "://" in docker_host or docker_host.startswith("/"):
        if docker_host.startswith("tcp://"):
            from docker.utils import kwargs_from_env

            environment = {**os.environ, "DOCKER_HOST": docker_host}
            return docker_host, kwargs_from_env(environment).get("tls") or False
        return docker_host, False
    from docker.context import ContextAPI  # only contexts need the context store

    context = ContextAPI.get_context(docker_host)
    if context is None:
        raise DockerException(f"no Docker context named {docker_host!r}")
    return str(context.Host), context.TLSConfig or False
