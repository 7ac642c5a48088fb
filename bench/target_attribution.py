"""Target attribution against a labelled sample: precision and recall of the targets and the
accuracy of the speaker, on the items two independent readers agreed on.

The sample (KCNA sentences and headlines) and the readers' labels live outside the repository
(no corpus text here); pass their files. Each reader file has one JSON object a line:
{"id", "speaker" (a code or null: the publisher's own voice), "targets" (codes)}.

    python bench/target_attribution.py SAMPLE.jsonl READER_A.jsonl READER_B.jsonl --publisher PRK \
        --as KORCVL=KOR

`--as` reads an actor the readers' list did not have as one it had (South Korean civil society
as South Korea), for a sample labelled before the actor was added.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from indicators.actors import load_actors


def read(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def norm(speaker: str | None, targets: list[str], publisher: str,
         alias: dict[str, str] | None = None) -> tuple[str, frozenset[str]]:
    alias = alias or {}
    who = alias.get(speaker or publisher, speaker or publisher)
    return who, frozenset(alias.get(t, t) for t in targets) - {who}


def pair(text: str) -> tuple[str, str]:
    code, sep, read_as = text.partition("=")
    if not (sep and code and read_as):
        raise argparse.ArgumentTypeError(f"--as wants CODE=READ_AS (e.g. KORCVL=KOR), not {text!r}")
    return code, read_as


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sample", type=Path)
    ap.add_argument("reader_a", type=Path)
    ap.add_argument("reader_b", type=Path)
    ap.add_argument("--publisher", default="PRK")
    ap.add_argument("--as", dest="alias", action="append", default=[], metavar="CODE=READ_AS", type=pair)
    args = ap.parse_args()
    alias = dict(args.alias)
    sample, a, b = read(args.sample), read(args.reader_a), read(args.reader_b)
    actors = load_actors()
    agreed = {}
    for key in sample:
        la = norm(a[key]["speaker"], a[key]["targets"], args.publisher)
        lb = norm(b[key]["speaker"], b[key]["targets"], args.publisher)
        if la == lb:
            agreed[key] = la
    tp = fp = fn = speaker_ok = 0
    for key, (speaker, targets) in agreed.items():
        got = actors.attribute(sample[key]["text"])
        who, found = norm(got.speaker, list(got.targets), args.publisher, alias)
        speaker_ok += who == speaker
        tp += len(found & targets)
        fp += len(found - targets)
        fn += len(targets - found)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(json.dumps({"items": len(sample), "agreed": len(agreed), "agreement": len(agreed) / len(sample),
                      "targets_labelled": tp + fn, "precision": round(precision, 3), "recall": round(recall, 3),
                      "f1": round(2 * precision * recall / (precision + recall), 3),
                      "speaker_accuracy": round(speaker_ok / len(agreed), 3)}, indent=2))


if __name__ == "__main__":
    main()
