"""Command line (`python -m tension`, or `tension` once installed): each module parses the
options of a few commands and calls the library; no logic of its own lives here."""

from __future__ import annotations

import os

import click

from tension.cli import ingest, learning, reports, scoring, serve, store, validate, watch
from tension.cli.common import hide_passwords


class _Main(click.Group):
    """Expected failures (a bad value, a file that cannot be read or written, the store, the
    cluster) end in one line naming the problem, not a traceback. TENSION_DEBUG=1 re-raises."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = hide_passwords(exc.message)
            raise
        except Exception as exc:
            expected = isinstance(exc, ValueError | OSError) or type(exc).__module__.startswith("sqlalchemy")
            if not expected or os.environ.get("TENSION_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(hide_passwords(first)) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tension Index: score news for hostility vs conciliation and read a daily index."""




for command in (scoring.score_text, scoring.evaluate_scorer, ingest.ingest, ingest.rescore, ingest.runs,
                ingest.quarantine, ingest.events, reports.export, reports.spikes, reports.explain,
                validate.validate, store.backup, store.restore, store.annotations, serve.serve, learning.train, learning.labels,
                watch.sources, watch.watch):
    main.add_command(command)
