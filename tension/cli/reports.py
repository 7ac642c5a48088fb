"""Reading the index out: export, spikes, explain."""

from __future__ import annotations

import json

import click

from tension.cli.common import (
    INDEX_OPTIONS,
    RANGE_OPTIONS,
    SELECTION_OPTIONS,
    day,
    open_store,
    view_from,
    warn_unscored,
    with_options,
)


@click.command()
@click.option("--out", required=True, metavar="FILE|-",
              help="Output file (.csv, .parquet, .json) or - for CSV on stdout.")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True,
              help="dask: read and aggregate the articles on a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: LocalCluster).")
@click.option("--dyads", "all_dyads", is_flag=True,
              help="Every dyad in long format: date, source_actor, target_actor, tension, … (the "
                   "periods where a dyad has articles).")
@click.option("--min-articles", default=1, show_default=True, type=click.IntRange(1),
              help="With --dyads: only dyads with at least this many articles in all.")
@with_options(SELECTION_OPTIONS, RANGE_OPTIONS, INDEX_OPTIONS)
def export(out: str, engine: str, scheduler: str | None, all_dyads: bool, min_articles: int, **kw) -> None:
    """Export the index: one row per period in range; a period without articles has blank
    values (the smoothed line, a moving mean, may bridge a few such periods). --dyad PRK-USA
    exports one dyad in this format; --dyads every dyad in long format."""
    from tension.io.export import write_export
    from tension.reports.export import build_dyads_export, build_export
    from tension.store.queries import SelectionError

    store = open_store(kw["db"])
    sel, opts = view_from(kw, store)
    warn_unscored(store)
    if all_dyads:
        if engine == "dask":
            raise click.BadParameter("--dyads runs on the pandas engine (--dyad A-B runs on either)",
                                     param_hint="--engine")
        try:
            table = build_dyads_export(store, sel, opts, min_articles=min_articles)
        except SelectionError as exc:
            raise click.BadParameter(str(exc), param_hint="--dyads") from None
    elif engine == "dask":
        from tension.pipeline.dask import dask_client

        with dask_client(scheduler):
            table = build_export(store, sel, opts, engine="dask")
    else:
        table = build_export(store, sel, opts)
    try:
        fmt = write_export(table, out)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    if out != "-":
        click.echo(f"wrote {len(table):,} rows to {out} ({fmt})", err=True)


@click.command()
@click.option("--top", default=10, show_default=True, type=click.IntRange(1), help="How many spikes.")
@click.option("--threshold", default=3.5, show_default=True, help="Robust z needed.")
@click.option("--window", default=90, show_default=True, type=click.IntRange(14),
              help="Days of history for the baseline (at least the 14 a baseline needs).")
@click.option("--min-articles", default=3, show_default=True, type=click.IntRange(1))
@click.option("--evidence/--no-evidence", default=True, show_default=True,
              help="Show each spike's top articles and terms.")
@click.option("--json", "as_json", is_flag=True)
@with_options(SELECTION_OPTIONS, RANGE_OPTIONS)
def spikes(top: int, threshold: float, window: int, min_articles: int, evidence: bool,
           as_json: bool, **kw) -> None:
    """Spike candidates: hostility spikes and conciliation dips, strongest first.

    Each day is judged against its own preceding days over the whole store;
    --from/--to only choose which spikes to list.
    """
    from tension.analysis.spikes import SpikeOptions, as_records, find_spikes
    from tension.reports.spikes import spike_evidence
    from tension.store.queries import load_articles

    store = open_store(kw["db"])
    sel, opts = view_from(kw, store)
    warn_unscored(store)
    articles = load_articles(store, sel)
    found = find_spikes(articles, SpikeOptions(window=window, threshold=threshold, min_articles=min_articles),
                        opts.start, opts.end).head(top)
    records = as_records(found)
    if evidence:
        whole = articles if sel.start is None and sel.end is None else None  # every date, read once
        for r in records:
            r["evidence"] = spike_evidence(store, sel, r, articles=whole)
    if as_json:
        click.echo(json.dumps(records, indent=2, ensure_ascii=False, default=str))
        return
    if not records:
        click.echo("no spike candidates")
    for r in records:
        span = r["start"] if r["start"] == r["end"] else f"{r['start']}..{r['end']}"
        click.echo(f"{r['kind']:<13} peak {r['peak']}  z={r['magnitude']:+.1f}  tension "
                   f"{r['peak_tension']:+.3f} vs baseline {r['baseline']:+.3f}  ({span}, "
                   f"{r['n_articles']} articles)")
        for a in r.get("evidence", {}).get("articles", [])[:3]:
            click.echo(f"    {a['tension']:+.2f}  {a['title'][:100]}")
        terms = ", ".join(t["term"] for t in r.get("evidence", {}).get("terms", [])[:6])
        if terms:
            click.echo(f"    terms: {terms}")


@click.command()
@click.argument("when", metavar="DATE|START..END")
@click.option("--baseline-days", default=28, show_default=True, type=click.IntRange(1))
@click.option("--top", default=15, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True)
@with_options(SELECTION_OPTIONS)
def explain(when: str, baseline_days: int, top: int, as_json: bool, **kw) -> None:
    """What moved a day or range compared with the weeks before it (a word shift)."""
    from tension.reports.explain import explain as run_explain

    start_s, dots, end_s = when.partition("..")
    if dots and not end_s:
        raise click.BadParameter(f"{when!r}: give the range's last day too, as in 2018-01-01..2018-01-09",
                                 param_hint="START..END")
    start, end = day(start_s, "DATE"), day(end_s or start_s, "DATE")
    if end < start:
        raise click.BadParameter(f"{end} is before {start}", param_hint="START..END")
    store = open_store(kw["db"])
    result = run_explain(store, view_from(kw, store)[0], start, end, baseline_days, top)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return
    def mean(value: float | None, n: int) -> str:
        return f"mean tension {value:+.3f} over {n} articles" if value is not None else "no articles"

    change = f"; change {result['delta']:+.3f}" if result["delta"] is not None else ""
    click.echo(f"{result['start']}..{result['end']}: {mean(result['mean_target'], result['n_target'])}; "
               f"baseline {result['baseline_start']}..{result['baseline_end']}: "
               f"{mean(result['mean_baseline'], result['n_baseline'])}{change}")
    if not result["n_target"]:
        return
    if result["terms_unavailable"]:
        click.echo(f"terms that moved it: not listed ({result['terms_unavailable']})")
    else:
        click.echo("terms that moved it (share of mean tension, target vs baseline):")
    for t in result["terms"]:
        click.echo(f"  {t['shift']:+.4f}  {t['term']:<28} [{t['category']}, {t['pole']}]  "
                   f"{t['target']:+.4f} vs {t['baseline']:+.4f}  ({t['n_target']} vs "
                   f"{t['n_baseline']} articles)")
    click.echo("articles that moved it most:")
    for a in result["articles"][:10]:
        click.echo(f"  {a['contribution']:+.4f}  {a['date']}  {a['title'][:90]}")


