"""Dash entry point: `python app.py [--db URL] [--host 127.0.0.1] [--port 8050]` (installed:
`tension serve`, the same options).

Also exposes `server` for gunicorn (`gunicorn app:server`), built from $TENSION_DB
(and $TENSION_AUTH for a login).
"""

from __future__ import annotations

import argparse

from tension.dashboard.app import DEFAULT_UPLOAD_MB, create_app, serve
from tension.dashboard.auth import load_credentials


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Tension Index dashboard and its HTTP API.")
    parser.add_argument("--db", help="database URL or SQLite file (default: $TENSION_DB or data/tension.db)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="port (default: 8050)")
    parser.add_argument("--auth-file", help="file of user:password lines; requires a login "
                                            "(default: $TENSION_AUTH if set, else no login)")
    parser.add_argument("--max-upload-mb", type=int, default=DEFAULT_UPLOAD_MB,
                        help=f"largest article file the page accepts (default: {DEFAULT_UPLOAD_MB})")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (reloader, dev tools)")
    args = parser.parse_args(argv)
    serve(args.db, host=args.host, port=args.port, auth_file=args.auth_file,
          max_upload_mb=args.max_upload_mb, debug=args.debug)


def __getattr__(name: str) -> object:
    # `server` is built on first use so that importing app.py stays cheap.
    if name == "server":
        return create_app(credentials=load_credentials(), warm=True).server
    raise AttributeError(name)


if __name__ == "__main__":
    main()
