"""Real `python app.py` server processes for tests: a free port, wait until healthy, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(db: str, log: Path, *args: str, env_extra: dict | None = None,
           port: int | None = None) -> tuple[subprocess.Popen, int]:
    """Start `python app.py --db DB --port PORT ARGS…` (output to `log`); does not wait."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TENSION_AUTH", "TENSION_DB")}
    env.update(env_extra or {})
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--db", db, "--port", str(port), *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, port


def wait_for_health(proc: subprocess.Popen, port: int, log: Path, timeout: float = 120,
                    headers: dict | None = None) -> None:
    """Until /api/health answers 200; fails with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on port {port} not up after {timeout} s:\n{log.read_text()[-3000:]}")


def start_server(db: str, log: Path, *args: str, env_extra: dict | None = None,
                 port: int | None = None) -> tuple[subprocess.Popen, int]:
    """`launch` and wait until healthy (the process is killed if it never is)."""
    proc, port = launch(db, log, *args, env_extra=env_extra, port=port)
    try:
        wait_for_health(proc, port, log)
    except BaseException:
        stop(proc, kill=True)
        raise
    return proc, port


def stop(proc: subprocess.Popen, kill: bool = False) -> None:
    """Terminate (or SIGKILL) the server and reap it."""
    if proc.poll() is not None:
        return
    if kill:
        proc.kill()
    else:
        proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
