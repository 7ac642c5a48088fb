"""Followed sources and the watcher: sources add|list|remove|enable|disable, webhooks, watch."""

from __future__ import annotations

import json
import signal
import sys

import click

from tension.cli.common import actor_code, db_option, open_store


def _interval(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    from tension.store.sources import SourceError, parse_interval

    if value is None:
        return None
    try:
        return parse_interval(value)
    except SourceError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
def sources() -> None:
    """Feeds, folders or files the store follows (pulled by `tension watch`)."""


@sources.command("add")
@click.argument("location")
@click.option("--name", help="Name of the source (default: the location); also the articles' source.")
@click.option("--actor", metavar="CODE", callback=actor_code,
              help="The actor it speaks for (a code of the actors file).")
@click.option("--interval", default="15m", show_default=True, callback=_interval,
              help="How often to pull it: 90s, 15m, 1h, 1d (at least 60 s).")
@db_option
def sources_add(location: str, name: str | None, actor: str | None, interval: int, db: str | None) -> None:
    """Follow a feed URL, a folder or a file."""
    from tension.store.actors import check_actor
    from tension.store.scoring import store_scorer
    from tension.store.sources import SourceError, add_source

    store = open_store(db, create=True)
    if actor is not None:
        try:
            check_actor(actor, store_scorer(store).actors)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--actor") from None
    try:
        src = add_source(store, location, name=name, actor=actor, interval_s=interval)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"source {src['id']} {src['name']!r}: {src['location']} every {src['interval_s']} s")


@sources.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True)
def sources_list(db: str | None, as_json: bool) -> None:
    """The sources with their last pull, items added and last error."""
    from tension.store.sources import list_sources

    rows = list_sources(open_store(db))
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no sources; add one with: python -m tension sources add URL")
    for r in rows:
        state = "enabled" if r["enabled"] else "disabled"
        speaks = f"  speaks for {r['actor']}" if r.get("actor") else ""
        click.echo(f"{r['id']:>3}  {r['name']}{speaks}  {r['location']}  every {r['interval_s']} s  {state}  "
                   f"last pull {r['last_pull_at'] or 'never'}  added {r['last_added']} (total {r['total_added']})"
                   + (f"  last error: {r['last_error']}" if r["last_error"] else ""))


def _toggle(ref: str, db: str | None, enabled: bool | None) -> None:
    from tension.store.sources import SourceError, remove_source, set_enabled

    try:
        src = remove_source(open_store(db), ref) if enabled is None else set_enabled(open_store(db), ref, enabled)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    what = "removed" if enabled is None else "enabled" if enabled else "disabled"
    click.echo(f"source {src['id']} {src['name']!r} {what}")


@sources.command("remove")
@click.argument("ref", metavar="ID|NAME")
@db_option
def sources_remove(ref: str, db: str | None) -> None:
    """Stop following a source (its articles stay)."""
    _toggle(ref, db, None)


@sources.command("enable")
@click.argument("ref", metavar="ID|NAME")
@db_option
def sources_enable(ref: str, db: str | None) -> None:
    """Pull a source again (its failure count starts over)."""
    _toggle(ref, db, True)


@sources.command("disable")
@click.argument("ref", metavar="ID|NAME")
@db_option
def sources_disable(ref: str, db: str | None) -> None:
    """Stop pulling a source for now."""
    _toggle(ref, db, False)


@sources.command("webhooks")
@click.argument("urls", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove the store's webhooks.")
@db_option
def sources_webhooks(urls: tuple[str, ...], clear: bool, db: str | None) -> None:
    """Show, or set, the webhooks every alert of this store is posted to (besides --alert-webhook)."""
    from tension.store.sources import SourceError, set_webhooks, store_webhooks

    store = open_store(db, create=True)
    if urls or clear:
        try:
            set_webhooks(store, [] if clear else list(urls))
        except SourceError as exc:
            raise click.BadParameter(str(exc)) from None
    for url in store_webhooks(store):
        click.echo(url)


@click.command()
@click.argument("names", nargs=-1, metavar="[SOURCE…]")
@db_option
@click.option("--interval", callback=_interval, metavar="DURATION",
              help="Pull every source this often in this run (default: each source's own interval).")
@click.option("--once", is_flag=True, help="Pull every source once, then exit (for cron).")
@click.option("--alert-webhook", "webhooks", multiple=True, metavar="URL",
              help="POST each new spike's alert as JSON to this URL (repeatable).")
@click.option("--alert-on", "measures", multiple=True, metavar="MEASURE|A-B",
              help="What to watch for spikes (repeatable): the headline (default), all, conflict, "
                   "intensity or a dyad such as PRK-USA.")
@click.option("--quiet", is_flag=True, help="Only errors and alerts.")
def watch(names: tuple[str, ...], db: str | None, interval: int | None, once: bool,
          webhooks: tuple[str, ...], measures: tuple[str, ...], quiet: bool) -> None:
    """Pull the enabled sources (or the ones named) on their interval, ingest what is new and
    alert once when the latest days become a spike candidate. Ctrl-C stops it between pulls."""
    from tension.analysis.options import OptionError, parse_measure
    from tension.core.selection import Selection
    from tension.store.queries import SelectionError, resolve
    from tension.store.sources import SourceError, get_source
    from tension.watch import run_watch

    store = open_store(db, create=True)
    try:
        for n in names:
            get_source(store, n)
        wanted = [parse_measure(m) for m in measures] or [""]
        for m in wanted:  # a dyad's actors are checked now, not after the first pull
            resolve(store, Selection(dyad=m))
    except (SourceError, OptionError, SelectionError) as exc:
        raise click.BadParameter(str(exc)) from None
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))

    def log(line: str) -> None:
        failed = ": error: " in line  # PullResult.line of a failed pull: to stderr, even when quiet
        if failed or not quiet or line.startswith("ALERT"):
            click.echo(line, err=failed)

    try:
        run_watch(store, names, once=once, interval=interval, webhooks=webhooks, log=log,
                  stop=lambda: bool(stopping), measures=wanted)
    except KeyboardInterrupt:
        sys.exit(130)
