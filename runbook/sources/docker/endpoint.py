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
