"""Validation against the real world: does the index rise when tensions rise?

A study file (`studies/kcna.toml`) names the corpora, the reference events and the labelled
sentences; `run_validation` builds a fresh temporary store from them and measures:
- the scorer on the labelled dev sentences, side by side with plain VADER;
- an event study: the mean index in the days after missile launches and nuclear
  tests against the weeks before, with a bootstrap interval over events, against
  placebo dates drawn at random from the same period;
- the most hostile and most conciliatory days, with their evidence;
- headlines against full stories, day by day, where both exist;
- real misfires.
Nothing here feeds back into the scorer or the index: the procedure is fixed in
advance and general (no date is special-cased).
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from indicators.evaluate import evaluate
from indicators.lexicon import Lexicon, load_lexicon
from indicators.scorers import lexicon_scorer, load_model
from tension.analysis.dyads import measure_frame, resolve_speakers
from tension.analysis.eventstudy import (
    agreement,
    correlation_by_part,
    direction_share,
    event_study,
    monthly_correlation,
)
from tension.analysis.index import compute_index, seasonal_component
from tension.analysis.options import MEASURES, IndexOptions
from tension.core.selection import Selection
from tension.io.labelled import read_labelled
from tension.pipeline.events import import_events
from tension.pipeline.ingest import ingest
from tension.reports.explain import day_articles
from tension.store.actors import actor_of_source
from tension.store.engine import Store
from tension.store.events import list_events
from tension.store.queries import load_articles, load_dyad_rows
from tension.store.scoring import store_scorer

DEFAULT_STUDY = Path("studies") / "kcna.toml"
OTHER_WINDOWS = ((14, 4), (27, 7), (56, 7))  # (days before, days after) besides the fixed 27/4


def load_study(path: Path | None = None) -> dict:
    """A study file (TOML): `headlines`, `stories`, `events` and `dev` tables naming files
    under the data folder, and the sources the corpora are stored as."""
    path = Path(path or DEFAULT_STUDY)
    if not path.is_file():
        raise FileNotFoundError(f"no study file at {path}: pass --study FILE (see studies/kcna.toml)")
    study = tomllib.loads(path.read_text(encoding="utf-8"))
    for key in ("headlines", "stories", "events", "dev"):
        if not isinstance(study.get(key), dict) or "file" not in study[key]:
            raise ValueError(f"{path}: the study needs a [{key}] table with a 'file'")
    return study


# --------------------------------------------------------------------------- store
def build_store(study: dict, data: Path, workdir: Path, jobs: int = 1,
                log: Callable[[str], None] = print) -> Store:
    """A fresh SQLite store with both corpora (as two sources) and the events."""
    store = Store(str(workdir / "validation.db"))
    for part in (study["headlines"], study["stories"]):
        s = ingest(store, [str(data / part["file"])], source=part["source"], jobs=jobs)
        log(f"{part['file']}: {s.line()}")
    r = import_events(store, data / study["events"]["file"])
    log(f"{study['events']['file']}: {r.added} events")
    return store


def daily_index(store: Store, source: str) -> pd.DataFrame:
    """The daily index of one source over its own first..last day, unadjusted (section 6 of the
    report measures the seasonally adjusted headline)."""
    arts = load_articles(store, Selection(sources=(source,)))
    return compute_index(arts, IndexOptions(smooth=7, n_boot=200, normalize="raw"))


# --------------------------------------------------------------------------- other checks
def extreme_days(store: Store, table: pd.DataFrame, source: str, k: int = 10,
                 min_articles: int = 5) -> dict[str, list[dict]]:
    """The k most hostile and k most conciliatory days (with enough articles), with evidence."""
    ok = table[table["n_articles"] >= min_articles]
    out = {}
    sel = Selection(sources=(source,))
    for name, rows in (("hostile", ok.nlargest(k, "tension")), ("conciliatory", ok.nsmallest(k, "tension"))):
        days = []
        for r in rows.itertuples():
            arts = day_articles(store, sel, r.date.date())
            sign = 1 if name == "hostile" else -1
            arts = sorted(arts, key=lambda a: -sign * a["tension"])[:3]
            days.append({"date": r.date.date().isoformat(), "tension": float(r.tension),
                         "n_articles": int(r.n_articles),
                         "articles": [{"title": a["title"], "tension": a["tension"],
                                       "phrases": [m["text"] for s in a["evidence"] for m in s["matches"]
                                                   if m["effective"] > 0][:5]} for a in arts]})
        out[name] = days
    return out


# --------------------------------------------------------------------------- measures and dyads
def measures_study(store: Store, study: dict, data: Path) -> dict:
    """Each measure (overall tone, conflict index, conflict intensity), each named dyad and each
    one-word count, on the headlines: the share of the dev events it moves the right way (4
    days after against 27 before) and the monthly correlation with the GPR reference; for the
    dyads, their mean and their most conciliatory months. Empty without a [dyads] table."""
    part = study.get("dyads")
    if not part:
        return {}
    events = pd.read_csv(data / part["events"])
    gpr = pd.read_csv(data / part["gpr"])
    column = part.get("gpr_column")  # the study file says which series: nothing here knows a country
    if column not in gpr.columns or "month" not in gpr.columns:
        raise ValueError(f"study [dyads]: gpr_column must name a column of {part['gpr']} beside its "
                         f"'month' column; it has {', '.join(map(str, gpr.columns))}")
    reference = pd.Series(gpr[column].to_numpy(), index=pd.to_datetime(gpr["month"], format="%Y-%m"))
    span = (part.get("gpr_from"), part.get("gpr_to"))  # None: every month the two share
    source = study["headlines"]["source"]
    sel = Selection(sources=(source,), dyad="all")
    titles = load_articles(store, sel)
    # the dyad rows read once; every measure is a frame of them (as load_measures makes it)
    actors = store_scorer(store).actors
    rows = resolve_speakers(load_dyad_rows(store, sel, titles), actor_of_source(store, actors))
    kept = titles.drop(columns=["hostility", "conciliation", "tension", "label"])
    series: dict[str, pd.Series] = {"all": titles.groupby("date")["tension"].mean()}
    means: dict[str, dict] = {}
    for name in ("conflict", "intensity", *part.get("dyads", [])):
        arts = measure_frame(rows, name, actors.conflict, kept)
        series[name] = arts.groupby("date")["tension"].mean()
        if name == "intensity":
            series["intensity:severity"] = severity_weighted(arts, load_lexicon()).groupby(arts["date"]).mean()
        if "-" in name:
            monthly = arts.set_index("date")["tension"].resample("MS").mean().dropna()
            means[name] = {"mean": float(arts["tension"].mean()), "n_articles": int(len(arts)),
                           "n_months": int(len(monthly)),
                           "most_conciliatory_months": [d.strftime("%Y-%m") for d in monthly.nsmallest(10).index]}
    for word in part.get("words", []):
        hit = titles["title"].str.contains(rf"\b{word}", case=False, regex=True).astype("float64")
        series[f"word:{word}"] = hit.groupby(titles["date"]).mean()
    adjusted: dict[str, pd.Series] = {}
    for name, s in series.items():  # each measure as shown (seasonally adjusted, the default) and raw
        if name in MEASURES:
            adjusted[f"{name}:seasonal"] = s - seasonal_component(s, pd.DatetimeIndex(s.index))
        adjusted[name] = s
    series = adjusted
    years = f"{titles['date'].min():%Y}–{titles['date'].max():%Y}" if len(titles) else "–"
    return {"events_file": part["events"], "gpr_file": part["gpr"], "gpr_column": column,
            "gpr_from": span[0], "gpr_to": span[1], "words": list(part.get("words", [])),
            "years": years,
            "measures": {name: {"events": direction_share(s, events),
                                "gpr": monthly_correlation(s, reference, *span),
                                "gpr_parts": correlation_by_part(s, reference, *span),
                                # other windows beside the fixed one: does the choice drive the answer?
                                "windows": {f"pre{pre}_post{post}": direction_share(s, events, pre=pre, post=post)["share"]
                                            for pre, post in OTHER_WINDOWS}}
                         for name, s in series.items()},
            "dyads": means}




def severity_weighted(arts: pd.DataFrame, lexicon: Lexicon) -> pd.Series:
    """The issue's third candidate headline, evaluated here and not offered as a measure: the
    intensity with each headline's hostility weighted by the severity of its strongest hostile
    lexicon entry (war and nuclear threats 0.9 … insults 0.4, after negation and hedges, at least
    the pole's mildest entry) and
    its conciliation by its strongest conciliatory one; a headline without such an entry counts
    as the pole's mildest entry. Headlines only: a title is one unit, so its entries are
    the entries of what it aims."""
    floor = {pole: min(e.weight for e in lexicon.entries if e.pole == pole) for pole in POLES}

    def strongest(title: str) -> tuple[float, float]:
        found = lexicon.find(title or "")
        return tuple(max([floor[pole]] + [m.effective for m in found if m.pole == pole]) for pole in POLES)

    sev = pd.DataFrame([strongest(t) for t in arts["title"]], columns=list(POLES), index=arts.index)
    return arts["hostility"] * sev["hostility"] - arts["conciliation"] * sev["conciliation"]


POLES = ("hostility", "conciliation")


# --------------------------------------------------------------------------- the whole run
def run_validation(data: Path, out: Path | None = None, *, study_file: Path | None = None,
                   figures: bool = True, jobs: int = 1, workdir: Path | None = None,
                   log: Callable[[str], None] = print) -> dict:
    """Run the study; write `<out>.md`, figures under `out/` and `out/metrics.json` if `out`."""
    spec = load_study(study_file)
    with tempfile.TemporaryDirectory(prefix="tension-validate-") as tmp:
        store = build_store(spec, data, Path(workdir or tmp), jobs, log)
        heads = daily_index(store, spec["headlines"]["source"])
        stories = daily_index(store, spec["stories"]["source"])
        events = list_events(store)
        series = heads.set_index("date")["tension"]
        study = {"all": event_study(series, events)}
        for cat in sorted(events["category"].unique()):
            study[cat] = event_study(series, events[events["category"] == cat])
        # The design (28 days before, 7 after) is fixed above; other windows are reported
        # beside it so nobody has to wonder whether the choice drives the answer.
        sensitivity = {f"pre{pre}_post{post}": event_study(series, events, pre=pre, post=post,
                                                           n_boot=500, n_placebo=300)
                       for pre, post in ((28, 3), (28, 14), (56, 7), (14, 7))}
        dev_rows = read_labelled(data / spec["dev"]["file"])
        ours, vader, misses = evaluate(dev_rows)
        lexicon, _, _ = evaluate(dev_rows, lexicon_scorer())
        model = load_model()
        metrics = {
            "dev": {"scorer": ours.as_dict(), "vader": vader.as_dict(), "lexicon": lexicon.as_dict()},
            "model": {"version": model.version, **{k: model.meta.get(k) for k in (
                "trained_on", "cv", "cv_lexicon", "cv_vader", "temperature", "calibration")}},
            "event_study": {k: {kk: vv for kk, vv in v.items() if kk not in ("effects", "placebo")}
                            for k, v in study.items()},
            "event_study_windows": {k: {kk: v[kk] for kk in ("n_events", "effect", "ci_low", "ci_high",
                                                             "p_value")}
                                    for k, v in sensitivity.items()},
            "headlines_vs_stories": agreement(heads, stories),  # on the days both have
            "corpus": {"headline_days": int((heads["n_articles"] > 0).sum()),
                       "headline_articles": int(heads["n_articles"].sum()),
                       "story_days": int((stories["n_articles"] > 0).sum()),
                       "story_articles": int(stories["n_articles"].sum())},
        }
        metrics["measures"] = measures_study(store, spec, data)
        extremes = extreme_days(store, heads, spec["headlines"]["source"])
        log(f"dev macro-F1 {ours.macro_f1:.3f} (VADER {vader.macro_f1:.3f}); event effect "
            f"{study['all']['effect']:+.4f} [{study['all']['ci_low']:+.4f}, {study['all']['ci_high']:+.4f}], "
            f"placebo p = {study['all']['p_value']:.3f}")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
            figs = {}
            if figures:
                from tension.validation.report import make_figures

                figs = make_figures(out, spec, heads, stories, events, series, study)
            from tension.validation.report import write_report

            write_report(out.with_suffix(".md"), out, spec, metrics, study, extremes, misses, figs, ours,
                         vader)
        store.dispose()
    return metrics
