"""A batch's writes, in the open transaction: dedupe against the store and the batch itself,
then originals, copies (pointing at their originals' ids), the scores of texts not scored
before, and the quarantine entries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from indicators.combine import Scorer
from tension.core.dates import now_iso
from tension.core.hashing import digest
from tension.core.records import Article, Problem, storable
from tension.pipeline.dedupe import CopyFinder
from tension.pipeline.ingest.keys import Batch
from tension.pipeline.scoring import Scored, score_one
from tension.store import articles as rows
from tension.store.articles import ArticleRow

# Up to this many (day, content hash) pairs per batch, stored originals are looked up pair by
# pair (batch size × days in the dedupe window); beyond it, by one scan of the batch's days.
MAX_PAIRS = 100_000


def write_batch(conn: Connection, batch: Batch, sigs: list[bytes | None], scored: dict[str, Scored],
                *, scorer: Scorer, window_days: int, run_id: int | None) -> tuple[int, int, int]:
    """Write a batch; returns (articles added, of which copies, texts scored)."""
    originals, copies = dedupe(conn, batch, sigs, window_days, run_id)
    if originals:
        rows.insert_articles(conn, originals)
    if copies:
        ids = rows.ids_of(conn, sorted({r.copy_of for r in copies if isinstance(r.copy_of, str)}))
        copies = [r._replace(copy_of=ids[r.copy_of]) if isinstance(r.copy_of, str) else r
                  for r in copies]
        rows.insert_articles(conn, copies)
    wanted: dict[str, ArticleRow] = {}
    for r in originals:
        wanted.setdefault(r.content_hash, r)  # the first row with the text, as scored
    # Scores to store: of the texts this batch's workers scored, and of those left to an
    # earlier batch that has not stored them (it had them only as copies, whose scores are
    # dropped): rare, scored here. The rest were stored before this batch was prepared.
    later = batch.elsewhere.intersection(wanted)
    if later:
        later -= rows.scored_hashes(conn, later, scorer.version)
    new = sorted(batch.scoring.intersection(wanted) | later)
    for h in new:
        if h not in scored:
            scored[h] = score_one(scorer, h, wanted[h].title, wanted[h].text)
    # Counted as stored: another writer may have stored some of them meanwhile.
    n_scored = rows.insert_scores(conn, [scored[h][0] for h in new],
                                  [t for h in new for t in scored[h][1]],
                                  [d for h in new for d in scored[h][2]])
    rows.insert_problems(conn, [problem_row(x, run_id) for x in batch.problems])
    return len(originals) + len(copies), len(copies), n_scored


def dedupe(conn: Connection, batch: Batch, sigs: list[bytes | None], window_days: int,
           run_id: int | None) -> tuple[list[ArticleRow], list[ArticleRow]]:
    """Rows of the originals, and of the copies with copy_of set: a stored id, or the key of
    an original in this batch."""
    if not batch.fresh:
        return [], []
    finder = CopyFinder(window_days)
    prepared = [(k, a, h, g) for (k, a), h, g in zip(batch.fresh, batch.hashes, sigs, strict=True)]
    load_originals(conn, finder, prepared, window_days)
    origin = a0 = None
    originals, copies = [], []
    for key, a, chash, sig in prepared:
        if a.origin is not a0:  # one input at a time: its name is made storable once
            a0, origin = a.origin, storable(a.origin)
        hit = finder.find(a.date, chash, sig)
        if hit:
            copies.append(ArticleRow(key, a.date, a.published_at, a.source, a.title, a.text, a.url,
                                     a.ext_id, chash, hit[0], hit[1], None, run_id, origin, a.row))
        else:
            originals.append(ArticleRow(key, a.date, a.published_at, a.source, a.title, a.text,
                                        a.url, a.ext_id, chash, None, None, sig, run_id, origin,
                                        a.row))
            finder.add(key, a.date, chash, sig)
    return originals, copies


def load_originals(conn: Connection, finder: CopyFinder,
                   prepared: list[tuple[str, Article, str, bytes | None]], window_days: int) -> None:
    """Stored originals that new rows could copy: same hash, or a signature, on nearby days."""
    w = dt.timedelta(days=window_days)
    days = {p[1].date for p in prepared}
    lo, hi = min(days) - w, max(days) + w
    near = any(p[3] is not None for p in prepared)
    shifts = [dt.timedelta(days=k) for k in range(-window_days, window_days + 1)]
    window = {d: [d + k for k in shifts] for d in days}  # each day's days within the window
    pairs = {(d, p[2]) for p in prepared for d in window[p[1].date]}
    if len(pairs) <= MAX_PAIRS:
        # Same hash on a day within the window: one index seek per (day, hash); a scan of
        # the batch's date range would read every article of those days, and a batch of a
        # long corpus spans months.
        found = list(rows.originals_on_days(conn, pairs))
        if near:  # long texts: originals with a signature in the date range, for near copies
            found += rows.originals_with_signatures(conn, lo, hi)
    else:  # a wide window: one scan of the index over the batch's days instead
        found = rows.originals_in_range(conn, {p[2] for p in prepared}, lo, hi, near)
    for rid, day, chash, sig in found:
        finder.add(rid, _as_date(day), chash, sig)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def problem_row(p: Problem, run_id: int | None) -> dict:
    return {"run_id": run_id, "fingerprint": digest(p.origin, str(p.row), p.field or "", p.reason),
            "origin": storable(p.origin), "row": p.row, "field": p.field, "reason": p.reason,
            "raw": p.raw, "created_at": now_iso()}
