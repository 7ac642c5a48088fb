"""Dash entry point: `python app.py [--db URL] [--host 127.0.0.1] [--port 8050]`.

Also exposes `server` for gunicorn (`gunicorn app:server`), built from $TENSION_DB
(and $TENSION_AUTH for a login).
"""

from __future__ import annotations

import argparse
import sys

from tension.dashboard.app import DEFAULT_UPLOAD_MB, create_app
from tension.dashboard.auth import is_loopback, load_credentials


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
    credentials = load_credentials(args.auth_file)
    if not is_loopback(args.host) and not credentials:
        print("\n" + "!" * 78 + f"\nWARNING: serving on {args.host}, reachable from other machines, "
              "WITHOUT a login.\nAnyone who can reach it can read the data and change annotations.\n"
              "Set TENSION_AUTH=user:password or pass --auth-file FILE.\n" + "!" * 78 + "\n",
              file=sys.stderr)
    app = create_app(args.db, credentials=credentials, max_upload_mb=args.max_upload_mb)
    app.run(host=args.host, port=args.port, debug=args.debug)


def __getattr__(name: str):  # noqa: ANN202
    # `server` is built on first use so that importing app.py stays cheap.
    if name == "server":
        return create_app(credentials=load_credentials()).server
    raise AttributeError(name)


if __name__ == "__main__":
    main()
