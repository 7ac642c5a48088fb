"""Judge a scorer on labelled sentences, side by side with plain VADER (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from indicators.combine import LABELS, Scorer
from indicators.learned.scorer import LearnedScorer
from indicators.vader import vader_compound, vader_label


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Per-class metrics, macro-F1 and the confusion matrix (gold → predicted → count)."""

    name: str
    per_class: dict[str, ClassMetrics]
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]
    n: int

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "n": self.n,
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "per_class": {k: vars(v) for k, v in self.per_class.items()},
            "confusion": self.confusion,
        }


def metrics(name: str, gold: list[str], predicted: list[str]) -> Report:
    """Precision, recall and F1 for each of LABELS; a class never predicted has precision 0."""
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for label in LABELS:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in LABELS if g != label)
        fn = sum(confusion[label][p] for p in LABELS if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassMetrics(precision, recall, f1, tp + fn)
    correct = sum(confusion[x][x] for x in LABELS)
    return Report(name, per_class, sum(m.f1 for m in per_class.values()) / len(LABELS),
                  correct / len(gold) if gold else 0.0, confusion, len(gold))


def evaluate(rows: Iterable[dict], scorer: Scorer | LearnedScorer | None = None) -> tuple[
        Report, Report, list[dict]]:
    """A scorer (by default the shipped one) and plain VADER on the same rows; also the rows
    the scorer got wrong."""
    if scorer is None:
        from indicators.scorers import scorer_for

        scorer = scorer_for()
    rows = list(rows)
    gold = [r["label"] for r in rows]
    ours, vader, misses = [], [], []
    for r in rows:
        score = scorer.score_text(r["text"])
        ours.append(score.label)
        vader.append(vader_label(vader_compound(r["text"])))
        if score.label != r["label"]:
            misses.append({**r, "predicted": score.label, "tension": score.tension,
                           "evidence": score.evidence()})
    return metrics("tension scorer", gold, ours), metrics("plain VADER", gold, vader), misses


def format_reports(reports: list[Report]) -> str:
    """A side-by-side table for people."""
    head = f"{'class':<14}" + "".join(f"{r.name:>36}" for r in reports)
    sub = f"{'':<14}" + "".join(f"{'precision':>12}{'recall':>12}{'F1':>12}" for _ in reports)
    lines = [head, sub]
    for label in LABELS:
        cells = "".join(f"{r.per_class[label].precision:>12.3f}{r.per_class[label].recall:>12.3f}"
                        f"{r.per_class[label].f1:>12.3f}" for r in reports)
        lines.append(f"{label:<14}{cells}")
    lines.append(f"{'macro-F1':<14}" + "".join(f"{r.macro_f1:>36.3f}" for r in reports))
    lines.append(f"{'accuracy':<14}" + "".join(f"{r.accuracy:>36.3f}" for r in reports))
    lines.append(f"(n = {reports[0].n} sentences)")
    return "\n".join(lines)
