"""Command line: parses options and calls the library. No logic of its own lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from indicators.combine import Scorer, to_json
from indicators.lexicon import load_lexicon


def _scorer(lexicon: Path | None) -> Scorer:
    return Scorer(load_lexicon(lexicon.read_bytes()) if lexicon else None)


lexicon_option = click.option(
    "--lexicon", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score with this lexicon file instead of the shipped indicators/lexicon.toml.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tension Index: score news for hostility vs conciliation and read a daily index."""


@main.command("score-text")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True, help="JSON lines for programs, a table for people.")
@lexicon_option
def score_text(fmt: str, lexicon: Path | None) -> None:
    """Score each line of stdin as one text.

    Writes one JSON object a line: text, hostility, conciliation, tension,
    label, evidence. Empty lines score as neutral so output lines match input
    lines. Input must be UTF-8; a line that is not stops with exit code 2 after
    everything before it has been written.
    """
    scorer = _scorer(lexicon)
    out = sys.stdout
    if fmt == "table":
        out.write(f"{'label':<13}{'tension':>8}{'host':>7}{'conc':>7}  evidence | text\n")
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.flush()
            click.echo(f"error: stdin line {n} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                       f"position {exc.start}); lines before it were scored", err=True)
            sys.exit(2)
        text = line.rstrip("\r\n")
        score = scorer.score_text(text)
        if fmt == "json":
            out.write(to_json(score, text) + "\n")
        else:
            terms = ", ".join(m["text"] for e in score.evidence() for m in e["matches"])[:40]
            out.write(f"{score.label:<13}{score.tension:>+8.3f}{score.hostility:>7.3f}"
                      f"{score.conciliation:>7.3f}  {terms} | {text[:80]}\n")
        out.flush()


@main.command("evaluate-scorer")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--misses", is_flag=True, help="Also list the sentences the scorer got wrong.")
@lexicon_option
def evaluate_scorer(path: Path, as_json: bool, misses: bool, lexicon: Path | None) -> None:
    """Precision, recall, F1 per class and macro-F1 on labelled sentences (JSONL with
    `text` and `label`), for our scorer and, side by side, for plain VADER."""
    from tension.evaluate import evaluate, format_reports, read_labelled

    try:
        rows = read_labelled(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ours, vader, wrong = evaluate(rows, _scorer(lexicon))
    if as_json:
        click.echo(json.dumps({"scorer": ours.as_dict(), "vader": vader.as_dict(),
                               **({"misses": wrong} if misses else {})}, indent=2))
        return
    click.echo(format_reports([ours, vader]))
    if misses:
        click.echo("\nMisses (gold → predicted, tension):")
        for m in wrong:
            click.echo(f"  {m['label']} → {m['predicted']} ({m['tension']:+.2f}): {m['text'][:120]}")
