"""Scoring text without a store: score-text and evaluate-scorer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from indicators.combine import to_json
from tension.cli.common import lexicon_option, scorer_from


@click.command("score-text")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True, help="JSON lines for programs, a table for people.")
@lexicon_option
@click.option("--db", "db", metavar="URL", help="Score with this store's model and lexicon (without: "
              "the shipped model).")
def score_text(fmt: str, lexicon: Path | None, db: str | None) -> None:
    """Score each line of stdin as one text.

    Writes one JSON object a line: text, hostility, conciliation, tension,
    label, evidence. Empty lines score as neutral so output lines match input
    lines. Input must be UTF-8 and a line at most 2,000,000 characters; a line that is
    not stops with exit code 2 after everything before it has been written.
    """
    from tension.core.records import MAX_FIELD_CHARS

    scorer = scorer_from(lexicon, db)
    sys.stdout.reconfigure(encoding="utf-8")  # JSON lines are UTF-8 whatever the locale says
    out = sys.stdout
    if fmt == "table":
        out.write(f"{'label':<13}{'tension':>8}{'host':>7}{'conc':>7}  evidence | text\n")
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")  # a BOM is not part of the text
        except UnicodeDecodeError as exc:
            out.flush()
            click.echo(f"error: stdin line {n} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                       f"position {exc.start}); lines before it were scored", err=True)
            sys.exit(2)
        text = line.rstrip("\r\n")
        if len(text) > MAX_FIELD_CHARS:
            out.flush()
            click.echo(f"error: stdin line {n} has {len(text):,} characters; the limit is "
                       f"{MAX_FIELD_CHARS:,} (as for a field on ingest); lines before it were scored",
                       err=True)
            sys.exit(2)
        score = scorer.score_text(text)
        if fmt == "json":
            out.write(to_json(score, text) + "\n")
        else:
            terms = ", ".join(m["text"] for e in score.evidence() for m in e["matches"])[:40]
            out.write(f"{score.label:<13}{score.tension:>+8.3f}{score.hostility:>7.3f}"
                      f"{score.conciliation:>7.3f}  {terms} | {text[:80]}\n")
        out.flush()


@click.command("evaluate-scorer")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--misses", is_flag=True, help="Also list the sentences the scorer got wrong.")
@lexicon_option
@click.option("--db", "db", metavar="URL", help="Evaluate this store's model (without: the shipped one).")
def evaluate_scorer(path: Path, as_json: bool, misses: bool, lexicon: Path | None, db: str | None) -> None:
    """Precision, recall, F1 per class and macro-F1 on labelled sentences (JSONL with
    `text` and `label`), for the model and, side by side, the lexicon scorer and plain VADER."""
    from indicators.evaluate import evaluate, format_reports, metrics
    from indicators.scorers import lexicon_scorer
    from tension.io.labelled import read_labelled

    try:
        rows = read_labelled(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ours, vader, wrong = evaluate(rows, scorer_from(lexicon, db))
    lex = lexicon_scorer(lexicon.read_bytes() if lexicon else None)
    lexical = metrics("lexicon scorer", [r["label"] for r in rows], [lex.score_text(r["text"]).label for r in rows])
    if as_json:
        click.echo(json.dumps({"scorer": ours.as_dict(), "lexicon": lexical.as_dict(), "vader": vader.as_dict(),
                               **({"misses": wrong} if misses else {})}, indent=2))
        return
    click.echo(format_reports([ours, lexical, vader]))
    if misses:
        click.echo("\nMisses (gold → predicted, tension):")
        for m in wrong:
            click.echo(f"  {m['label']} → {m['predicted']} ({m['tension']:+.2f}): {m['text'][:120]}")


