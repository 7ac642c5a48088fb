"""Dash entry point: `python app.py [--db URL] [--host 127.0.0.1] [--port 8050]`.

Also exposes `server` for gunicorn (`gunicorn app:server`), built from $TENSION_DB.
"""

from __future__ import annotations

import argparse

from tension.dashboard.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Tension Index dashboard.")
    parser.add_argument("--db", help="database URL or SQLite file (default: $TENSION_DB or data/tension.db)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="port (default: 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (reloader, dev tools)")
    args = parser.parse_args(argv)
    app = create_app(args.db)
    app.run(host=args.host, port=args.port, debug=args.debug)


def __getattr__(name: str):
    # `server` is built on first use so that importing app.py stays cheap.
    if name == "server":
        return create_app().server
    raise AttributeError(name)


if __name__ == "__main__":
    main()
