"""`check --config`: every docker_host and docker_hosts entry of the config is checked without
connecting (a unix socket that exists, tcp://HOST:PORT, ssh://[USER@]HOST[:PORT], a context
the Docker CLI's config has); each bad one is one line, and check exits 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.sources.docker.endpoint import address_problem

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Docker CLI config directory holding one context, `blue` (as `docker context create`
    writes it: contexts/meta/<sha256 of the name>/meta.json)."""
    import hashlib

    root = tmp_path / "docker-config"
    meta = root / "contexts" / "meta" / hashlib.sha256(b"blue").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": "blue",
                "Metadata": {},
                "Endpoints": {"docker": {"Host": "tcp://127.0.0.1:2376", "SkipTLSVerify": False}},
            }
        )
    )
    (root / "config.json").write_text("{}")  # the SDK finds the directory by this file
    monkeypatch.setenv("DOCKER_CONFIG", str(root))
    return root


@pytest.fixture
def live_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    yield path
    server.close()


@pytest.mark.parametrize(
    ("engine", "problem"),
    [
        ("tcp://127.0.0.1:2376", None),
        ("tcp://127.0.0.1", "tcp:// needs a port: tcp://HOST:PORT (2375, or 2376 with TLS)"),
        ("tcp://127.0.0.1:99999", "not a valid tcp:// address (Port out of range 0-65535)"),
        ("tcp://127.0.0.1:x", "not a valid tcp:// address (Port could not be cast to integer"),
        ("tcp://:2376", "tcp:// needs a host (tcp://HOST:PORT)"),
        ("tcp://127.0.0.1:2376/v1", "tcp:// takes nothing after the host and port"),
        ("tcp://ops@127.0.0.1:2376", "tcp:// takes no user: tcp://HOST:PORT"),
        ("ssh://ops@box", None),
        ("ssh://box:2222", None),
        ("ssh://", "ssh:// needs a host (ssh://HOST)"),
        ("ssh://ops:secret@box", "ssh:// takes no password in the address"),
        ("ssh://box/var/run/docker.sock", "ssh:// takes nothing after the host and port"),
        ("http://127.0.0.1:2375", "unknown scheme http://"),
        ("blue", None),
        ("default", None),
        ("green", "no Docker context named 'green' (docker context ls lists them)"),
    ],
)
def test_engine_addresses(engine: str, problem: str | None, docker_config: Path) -> None:
    found = address_problem(engine)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found


def test_unix_sockets(tmp_path: Path, live_socket: Path) -> None:
    assert address_problem(f"unix://{live_socket}") is None
    assert address_problem(str(live_socket)) is None
    assert (
        address_problem(f"unix://{tmp_path}/gone.sock")
        == f"socket {tmp_path}/gone.sock does not exist"
    )
    (tmp_path / "plain").write_text("")
    assert address_problem(f"unix://{tmp_path}/plain") == f"{tmp_path}/plain is not a socket"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )


def test_check_reports_each_bad_engine_on_one_line(
    tmp_path: Path, docker_config: Path, live_socket: Path
) -> None:
    (tmp_path / ".git").mkdir()
    runbook = tmp_path / "runbook.md"
    runbook.write_text("## Fix\n\n```sh\ndocker ps\n```\n")
    config = tmp_path / "config.toml"
    config.write_text(
        "[environments.Staging]\n"
        f'docker_hosts = ["unix://{live_socket}", "tcp://127.0.0.1:2376", "ssh://ops@box",'
        ' "blue"]\n'
        "[environments.Production]\n"
        'docker_host = "tcp://127.0.0.1"\n'
    )
    result = cli("check", str(runbook), "--config", str(config))
    assert result.returncode == 1, result
    assert result.stderr.splitlines() == [
        f"runbook-console: {config}: environments.Production.docker_host 'tcp://127.0.0.1':"
        " tcp:// needs a port: tcp://HOST:PORT (2375, or 2376 with TLS)"
    ]
    assert result.stdout.strip() == f"{runbook}: ok (1 procedures)"

    config.write_text(
        "[environments.Staging]\n"
        f'docker_hosts = ["unix://{tmp_path}/gone.sock", "tcp://127.0.0.1:2376", "green"]\n'
    )
    result = cli("check", str(runbook), "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"runbook-console: {config}: environments.Staging.docker_hosts[0]"
        f" 'unix://{tmp_path}/gone.sock': socket {tmp_path}/gone.sock does not exist",
        f"runbook-console: {config}: environments.Staging.docker_hosts[2] 'green':"
        " no Docker context named 'green' (docker context ls lists them)",
    ]
    assert "Traceback" not in result.stderr

    config.write_text(
        f'[environments.Staging]\ndocker_hosts = ["unix://{live_socket}", "blue", "ssh://box"]\n'
    )
    assert cli("check", str(runbook), "--config", str(config)).returncode == 0
