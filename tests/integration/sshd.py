"""A loopback sshd in front of one private engine: `ssh://root@127.0.0.1:PORT` for the tests.

Debian's openssh-server on 127.0.0.1 and a free port, with a host key and a client key
generated here. The client key may run one command only: `docker system dial-stdio`
against the private engine's socket (a forced command), which is what the Docker SDK
and CLI run over SSH, so the shared engine is never reached this way. The client side
(key, known_hosts, ~/.ssh/config) lives in a home directory of its own: point HOME at
`home` for the process that connects.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engines import family

from runbook.drills.sandboxes import free_ports
from tests.required import unavailable
from tests.waiting import wait_until

SSHD = "/usr/sbin/sshd"


@dataclass
class LoopbackSshd:
    engine_url: str
    """The unix:// socket every SSH session is sent to."""
    root: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="rbc-ssh-", dir="/tmp"))
    )
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def start(self) -> None:
        if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
            unavailable("openssh-server is not installed (apt-get install openssh-server)")
        self.port = free_ports(1)[0]
        dot_ssh = self.home / ".ssh"
        dot_ssh.mkdir(parents=True)
        host_key, client_key = self.root / "host_key", dot_ssh / "id_ed25519"
        for key in (host_key, client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
        forced = f'command="docker -H {self.engine_url} system dial-stdio",restrict'
        public = client_key.with_suffix(".pub").read_text().strip()
        (self.root / "authorized_keys").write_text(f"{forced} {public}\n")
        host_public = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
        (dot_ssh / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_public}\n")
        (dot_ssh / "config").write_text(f"Host 127.0.0.1\n  IdentityFile {client_key}\n")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        self.process = subprocess.Popen(
            [
                SSHD,
                "-D",
                "-e",
                "-f",
                "/dev/null",
                "-o",
                "ListenAddress=127.0.0.1",
                "-p",
                str(self.port),
                "-o",
                f"HostKey={host_key}",
                "-o",
                f"AuthorizedKeysFile={self.root / 'authorized_keys'}",
                "-o",
                f"PidFile={self.root / 'sshd.pid'}",
                "-o",
                "StrictModes=no",
                "-o",
                "PasswordAuthentication=no",
                "-o",
                "KbdInteractiveAuthentication=no",
                "-o",
                "UsePAM=no",
                "-o",
                "PermitRootLogin=prohibit-password",
                "-o",
                "MaxStartups=10:30:100",
                "-o",
                "MaxSessions=10",
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=(self.root / "sshd.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(self._listening, 10, f"sshd listens on 127.0.0.1:{self.port}")

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"sshd exited: {(self.root / 'sshd.log').read_text()[-1500:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        """Stop sshd and its sessions (its children, each in a session of its own), and
        delete its files."""
        process = self.process
        if process is not None:
            for pid in reversed(family([process.pid])):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
