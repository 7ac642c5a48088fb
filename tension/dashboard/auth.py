"""Optional HTTP basic auth for shared deployments: one login for the page and the API.

Credentials come from $TENSION_AUTH ("user:password") or a file with one
"user:password" line per user (`--auth-file`). Passwords are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

from flask import Flask, Response, request

AUTH_ENV = "TENSION_AUTH"


def load_credentials(auth_file: str | Path | None = None) -> dict[str, str]:
    """user → password from the file, else from $TENSION_AUTH; {} means no login."""
    lines: list[str] = []
    if auth_file:
        lines = Path(auth_file).read_text(encoding="utf-8").splitlines()
    elif os.environ.get(AUTH_ENV):
        lines = [os.environ[AUTH_ENV]]
    creds = {}
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ValueError(f"{auth_file or AUTH_ENV}, line {n}: expected user:password")
        creds[user] = password
    return creds


def require_login(server: Flask, credentials: dict[str, str]) -> None:
    """Every request (page, Dash callbacks, API) must carry valid basic-auth credentials."""

    @server.before_request
    def _check() -> Response | None:
        auth = request.authorization
        if auth and auth.type == "basic" and auth.username in credentials and hmac.compare_digest(
                (auth.password or "").encode(), credentials[auth.username].encode()):
            return None
        return Response("login required\n", 401, {"WWW-Authenticate": 'Basic realm="Tension Index"'})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
