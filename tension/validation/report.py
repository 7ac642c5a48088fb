"""Figures (matplotlib, PNG) and the markdown report of `python -m tension validate`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from indicators.combine import LABELS
from indicators.evaluate import Report
from tension.analysis.dyads import HEADLINE
from tension.analysis.eventstudy import event_path
from tension.analysis.index import SEASON_DAYS

RED, BLUE, ORANGE, PURPLE = "#c0392b", "#2163a6", "#e67e22", "#7d3c98"


def make_figures(out: Path, spec: dict, heads: pd.DataFrame, stories: pd.DataFrame, events: pd.DataFrame,
                 series: pd.Series, study: dict) -> dict[str, str]:
    """Write the PNGs; returns name → file name relative to the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    lo, hi = heads["date"].min(), heads["date"].max()

    fig, ax = plt.subplots(figsize=(13, 4.5))
    ax.scatter(heads["date"], heads["tension"], s=1.5, color="#999999", alpha=0.5, label="daily index")
    smooth = heads.set_index("date")["tension"].rolling(30, min_periods=10).mean()
    ax.plot(smooth.index, smooth.values, color="black", lw=1, label="30-day mean")
    for cat, color in (("missile_test", ORANGE), ("nuclear_test", PURPLE)):
        ev = events[(events["category"] == cat) & (events["start"] >= lo) & (events["start"] <= hi)]
        for i, d in enumerate(ev["start"]):
            ax.axvline(d, color=color, lw=1, alpha=0.8, label=cat.replace("_", " ") if i == 0 else None)
    ax.axhline(0, color="#555", lw=0.5)
    ax.set_ylabel("tension (hostility − conciliation)")
    ax.set_title(f"{spec['headlines']['describe']}: daily tension index, with {spec['events']['describe']}")
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    files["index"] = _save(fig, out / "index.png")

    monthly = heads.set_index("date")[["tension", "n_articles"]].copy()
    monthly["sum"] = monthly["tension"].fillna(0) * monthly["n_articles"]
    m = monthly.resample("MS").sum()
    m["tension"] = m["sum"] / m["n_articles"].replace(0, np.nan)
    fig, ax = plt.subplots(figsize=(13, 4))
    colors = [RED if v > 0 else BLUE for v in m["tension"].fillna(0)]
    ax.bar(m.index, m["tension"], width=25, color=colors)
    ax.axhline(0, color="#555", lw=0.5)
    ax.set_ylabel("monthly mean tension")
    ax.set_title(f"Monthly aggregates (article-weighted), {spec['headlines']['describe']}")
    files["monthly"] = _save(fig, out / "monthly.png")

    days = [pd.Timestamp(d) for d in study["all"]["event_days"]]
    path = event_path(series, days)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4))
    a1.plot(path.index, path.values, color="black")
    a1.axvline(0, color=ORANGE)
    a1.axvspan(-28, -1, color="#dddddd", alpha=0.5, label="baseline: 28 days before")
    a1.axvspan(0, 6, color="#f5cba7", alpha=0.6, label="7 days from the test")
    a1.set_xlabel("days from the weapons test")
    a1.set_ylabel("mean daily tension across tests")
    a1.legend(fontsize=8)
    a1.set_title(f"Around {study['all']['n_events']} events")
    a2.hist(study["all"]["placebo"], bins=40, color="#bbbbbb")
    a2.axvline(study["all"]["effect"], color=RED, lw=2, label="observed effect")
    a2.set_xlabel("mean effect (after − before) at random placebo dates")
    a2.legend(fontsize=8)
    a2.set_title(f"Placebo test: p = {study['all']['p_value']:.3f}")
    files["event_study"] = _save(fig, out / "event_study.png")

    both = pd.concat([heads.set_index("date")["tension"].rename("headlines"),
                      stories.set_index("date")["tension"].rename("stories")], axis=1, join="inner")
    wk = both.resample("W-MON").mean()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [2, 1]})
    a1.plot(wk.index, wk["headlines"], color=RED, label="headlines")
    a1.plot(wk.index, wk["stories"], color=BLUE, label="full stories")
    a1.set_title("Weekly mean tension, days with both")
    a1.legend(fontsize=8)
    a2.scatter(both["headlines"], both["stories"], s=4, alpha=0.5, color="black")
    a2.set_xlabel("headlines (daily)")
    a2.set_ylabel("stories (daily)")
    a2.set_title("Day by day")
    files["headlines_vs_stories"] = _save(fig, out / "headlines_vs_stories.png")
    return files


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f"{path.parent.name}/{path.name}"


def _metrics_table(ours: Report, vader: Report) -> str:
    lines = ["| class | scorer P | scorer R | scorer F1 | VADER P | VADER R | VADER F1 | n |",
             "|---|---|---|---|---|---|---|---|"]
    for label in LABELS:
        o, v = ours.per_class[label], vader.per_class[label]
        lines.append(f"| {label} | {o.precision:.3f} | {o.recall:.3f} | {o.f1:.3f} | {v.precision:.3f} | "
                     f"{v.recall:.3f} | {v.f1:.3f} | {o.support} |")
    lines.append(f"| **macro-F1** | | | **{ours.macro_f1:.3f}** | | | **{vader.macro_f1:.3f}** | {ours.n} |")
    return "\n".join(lines)


def _f1_table(reports: list[dict]) -> str:
    """Per-class and macro F1 of several scorers on the same sentences (Report.as_dict()s)."""
    lines = ["| class | " + " | ".join(r["name"] for r in reports) + " | n |",
             "|---|" + "---|" * len(reports) + "---|"]
    for label in LABELS:
        lines.append(f"| {label} | " + " | ".join(f"{r['per_class'][label]['f1']:.3f}" for r in reports)
                     + f" | {reports[0]['per_class'][label]['support']:,} |")
    lines.append("| **macro-F1** | " + " | ".join(f"**{r['macro_f1']:.3f}**" for r in reports)
                 + f" | {reports[0]['n']:,} |")
    return "\n".join(lines)


def _model_section(metrics: dict) -> str:
    model = metrics["model"]
    counts = model["trained_on"]
    cv = [r for r in (model.get("cv"), model.get("cv_lexicon"), model.get("cv_vader")) if r]
    for r, name in zip(cv, ("learned (5-fold CV)", "lexicon scorer", "plain VADER"), strict=False):
        r["name"] = name
    dev = metrics["dev"]
    dev_rows = [{**dev["scorer"], "name": "learned"}, {**dev["lexicon"], "name": "lexicon scorer"},
                {**dev["vader"], "name": "plain VADER"}]
    cal = model["calibration"]
    return f"""The scorer is the learned model `{model['version']}` (docs/methodology.md, "The learned
scorer"), trained on {sum(counts[c] for c in LABELS):,} labelled sentences (hostile {counts['hostile']:,},
neutral {counts['neutral']:,}, conciliatory {counts['conciliatory']:,}): the shared training set plus
pool sentences two independent readers labelled alike.

Cross-validated on the training sentences (each predicted by a model that did not see it; the
training set over-represents sentences with stance cues and hard cases, so these figures run
below what a random sample of the corpus would give):

{_f1_table(cv)}

On the labelled dev sentences (never trained on; settings were chosen on them, so a held-out
set of the same kind decides acceptance):

{_f1_table(dev_rows)}

Calibration (out-of-fold, 10 bins): expected calibration error {cal['raw']['ece']:.3f} before and
{cal['calibrated']['ece']:.3f} after dividing the logits by the temperature {model['temperature']:.3f};
Brier score {cal['raw']['brier']:.3f} → {cal['calibrated']['brier']:.3f}.

Learned scorer and plain VADER on the dev set, precision and recall:

{{table}}"""


def _confusion(report: Report) -> str:
    lines = ["| gold ↓ / predicted → | " + " | ".join(LABELS) + " |", "|---|---|---|---|"]
    for g in LABELS:
        lines.append(f"| {g} | " + " | ".join(str(report.confusion[g][p]) for p in LABELS) + " |")
    return "\n".join(lines)


def _esc(text: str) -> str:  # a table cell of Markdown: no column break, no HTML tag
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def write_report(md: Path, out: Path, spec: dict, metrics: dict, study: dict, extremes: dict, misses: list[dict],
                 figs: dict[str, str], ours: Report, vader: Report) -> None:
    hv, corpus = metrics["headlines_vs_stories"], metrics["corpus"]
    n_events = metrics["event_study"]["all"]["n_events"]
    fig = lambda key, alt: f"![{alt}]({figs[key]})\n" if key in figs else ""  # noqa: E731
    cats = "\n".join(f"| {k} | {v['n_events']} | {v['effect']:+.4f} | [{v['ci_low']:+.4f}, {v['ci_high']:+.4f}] | "
                     f"{v['placebo_mean']:+.4f} | {v['p_value']:.3f} | {v['share_positive']:.0%} |"
                     for k, v in metrics["event_study"].items())
    windows = "\n".join(f"| {k.replace('pre', 'before ').replace('_post', ' d, after ')} d | {v['n_events']} | "
                        f"{v['effect']:+.4f} | [{v['ci_low']:+.4f}, {v['ci_high']:+.4f}] | {v['p_value']:.3f} |"
                        for k, v in metrics["event_study_windows"].items())
    extreme_rows = []
    for name in ("hostile", "conciliatory"):
        extreme_rows.append(f"\n### The ten most {name} days\n")
        extreme_rows.append("| day | tension | articles | top headlines (matched phrases) |\n|---|---|---|---|")
        for d in extremes[name]:
            tops = "; ".join(f"{_esc(a['title'])} ({', '.join(a['phrases'][:3])})" for a in d["articles"])
            extreme_rows.append(f"| {d['date']} | {d['tension']:+.3f} | {d['n_articles']} | {tops} |")
    miss_rows = "\n".join(
        f"| {_esc(m['text'][:160])} | {m['label']} | {m['predicted']} | "
        f"{_esc(', '.join(x['text'] + (' (' + ','.join(x['modifiers']) + ')' if x['modifiers'] else '') for e in m['evidence'] for x in e['matches'])) or '—'} |"
        for m in misses)
    text = f"""# Validation: does the index track what happened?

Generated by `python -m tension validate` on {dt.date.today().isoformat()} from the real data in
`../shared/data` (a fresh temporary store; nothing tuned to dates). Numbers: `{out.name}/metrics.json`.
CI re-runs the numbers (not the figures) and fails if the dev macro-F1 or the event-study
effect falls below what they reached (`tests/validation/test_validation.py`).

Corpus: {corpus['headline_articles']:,} articles of {spec['headlines']['describe']} on {corpus['headline_days']:,} days;
{corpus['story_articles']:,} of {spec['stories']['describe']} on {corpus['story_days']:,} days; {spec['events']['describe']} as reference events ({n_events} inside the headline period).

Sections 1, 2, 4 and 5 read the headline index, the conflict intensity (what the source aims
across the conflict dyads, hostile minus conciliatory, over all its articles;
docs/methodology.md §2b), as scored (`--normalize raw`: the stories' two years have no other
years to adjust against, and the event studies compare days with the weeks just before them);
"Measures and dyads" at the end sets it beside its seasonally adjusted self (the default
view), the overall tone and the other measures.

## 1. The index, with the reference events

{fig("index", "Daily index with " + spec['events']['describe'])}
{fig("monthly", "Monthly aggregates")}

## 2. Event study: the index around the reference events ({spec['events']['describe']})

For each event inside the headline period (with 28 days before and 7 after available):
effect = mean daily tension over the 7 days from the event − mean over the 28 days before.
The interval resamples events (2,000 bootstrap draws); the placebo draws the same number
of random dates from the same period 1,000 times.

| events | n | mean effect | 95% CI | placebo mean | placebo p | events followed by a rise |
|---|---|---|---|---|---|---|
{cats}

{fig("event_study", "Event study")}

The same study with other windows (fixed list, reported whatever they show):

| window | n | mean effect | 95% CI | placebo p |
|---|---|---|---|---|
{windows}

Reading: a positive effect means the index turns more hostile in the week of an event
than in the month before; the placebo p-value is the share of random-date sets with an
effect at least as large.

## 3. The scorer on labelled sentences

{_model_section(metrics).replace("{table}", _metrics_table(ours, vader))}

Confusion matrix, our scorer:

{_confusion(ours)}

Confusion matrix, plain VADER (compound ≥ 0.05 conciliatory, ≤ −0.05 hostile):

{_confusion(vader)}

## 4. The most hostile and most conciliatory days (at least 5 headlines)
{chr(10).join(extreme_rows)}

## 5. Headlines versus full stories

Over {hv['n_days']} days with both: Pearson r = {hv['pearson_daily']:.3f}, Spearman ρ =
{hv['spearman_daily']:.3f} day by day; Pearson r = {hv['pearson_monthly']:.3f} over {hv['n_months']} months;
the two agree on the sign of the day's tension on {hv['sign_agreement']:.0%} of days.

{fig("headlines_vs_stories", "Headlines vs stories")}

## 6. Limits, and real misfires

- **Stance, not mood — but only as far as words go.** The dev sentences the scorer gets
  wrong are listed below with what pushed them.
{spec.get('report', {}).get('limits', '').strip()}
- **What the labels teach.** The model learns the readers' rubric from about five thousand
  sentences of KCNA (2011–12 stories, 1997–2014 headlines); text of another kind (another
  outlet, another decade, another language) may need labels of its own (`tension labels
  import`, then `tension train --db`).

Dev sentences the scorer gets wrong (gold → predicted, with the entries and words that pushed it most):

| sentence | gold | predicted | matched entries |
|---|---|---|---|
{miss_rows}
""" + measures_section(metrics.get("measures") or {})
    md.write_text(text, encoding="utf-8")


def measures_section(m: dict) -> str:
    """The report's section on the measures and dyads (empty without them)."""
    if not m:
        return ""
    rows = []
    windows = list(next(iter(m["measures"].values())).get("windows", {}))
    for name, v in m["measures"].items():
        ev, gpr = v["events"], v["gpr"]
        other = " | ".join(f"{v['windows'][w]:.0%}" for w in windows)
        parts = " / ".join(f"{p['r']:+.2f}" for p in v.get("gpr_parts", []))
        rows.append(f"| {name} | {ev['right']}/{ev['n_events']} ({ev['share']:.0%}; {ev['ci_low']:.0%}–"
                    f"{ev['ci_high']:.0%}) | {other} | {gpr['r']:+.3f} ({gpr['n_months']} months) | {parts} |")
    heads = " | ".join(w.replace("pre", "").replace("_post", " before / ") + " after" for w in windows)
    per_event = _per_event(m["measures"])
    dyads = "\n".join(f"| {k} | {v['mean']:+.3f} | {v['n_articles']:,} | {', '.join(v['most_conciliatory_months'][:10])} |"
                       for k, v in m["dyads"].items())
    span = f"{m.get('gpr_from') or 'its first month'} to {m.get('gpr_to') or 'the last month both have'}"
    first = next(iter(m["measures"].values())).get("gpr_parts", [])
    thirds = f" ({', '.join(p['from'] + '…' + p['to'] for p in first)})" if first else ""
    words = "".join(f"\n`word:{w}` is the share of the day's headlines with the word \"{w}\"."
                    for w in m.get("words", []))
    return f"""
## Measures and dyads against the development references

Each measure is the headlines' daily index (`--dyad all|conflict|intensity|A-B`). *Events*: the
share of `{m['events_file']}` events after which the index moves the way the event should move it
(mean of the 4 days from the event − mean of the 27 days before; hostile: up, conciliatory:
down), with its Wilson 95 % interval: on two dozen events one event is four points. The
same share over other windows (days before / days after) stands beside it, so nobody has to
wonder whether the window drives the ranking. *GPR*: Pearson r of the monthly mean with
{m['gpr_column']} of `{m['gpr_file']}`, {span}, and over three consecutive thirds of those
months (does one stretch carry the r?).{words}
A name with `:seasonal` is that measure seasonally adjusted, as the index shows it by default
(`--normalize seasonal`: each day minus how far the days within {SEASON_DAYS} of the same date
lie from their year's mean in the other years); `{HEADLINE}:seasonal` is the headline as shown, the
name alone the same measure unadjusted (`--normalize raw`);
`intensity:severity` is the severity-weighted intensity (methodology §2b).
These are development references; acceptance uses held-out events and months.

| measure | events moved the right way (27 before / 4 after; 95 % interval) | {heads} | GPR r | GPR r by thirds{thirds} |
|---|---|{"---|" * len(windows)}---|---|
{chr(10).join(rows)}

Event by event (the effect as above: after − before; ✓ the way the event should move it):

{per_event}

| dyad | mean tension {m['years']} | articles | the 10 most conciliatory months, most first |
|---|---|---|---|
{dyads}
"""


def _per_event(measures: dict) -> str:
    """One row per dev event: its effect under the headline as shown (seasonally adjusted),
    unadjusted, and under the overall tone."""
    cols = [c for c in dict.fromkeys((f"{HEADLINE}:seasonal", HEADLINE, "all")) if c in measures]
    by = {c: {e["date"]: e for e in measures[c]["events"]["events"]} for c in cols}
    lines = ["| date | event | should | " + " | ".join(cols) + " |", "|---|---|---|" + "---|" * len(cols)]
    first = by[cols[0]] if cols else {}
    for day, e in sorted(first.items()):
        cells = " | ".join(f"{by[c][day]['effect']:+.3f} {'✓' if by[c][day]['right'] else '✗'}"
                           if day in by[c] else "–" for c in cols)
        should = "rise" if e["kind"] == "hostile" else "fall"
        lines.append(f"| {day} | {_esc(e.get('label', ''))} | {should} | {cells} |")
    return "\n".join(lines)
