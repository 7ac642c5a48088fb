"""The measure / dyad dropdown, the compared line and the actor × actor heatmap, as plain
functions (no browser) on a small real SQLite store.

The store holds twelve days of KCNA headlines aimed at known actors: each day two hostile
ones at the United States, two friendly ones with China and one neutral, and every fourth
day one at Japan (3 in all: under the dropdown's 20-article floor).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from _stores import copy_db, headline_store

from tension.analysis.dyads import HEADLINE
from tension.dashboard.panels import chart, dyads, evidence
from tension.dashboard.panels import controls as ctl
from tension.dashboard.service import Service
from tension.dashboard.view import DEFAULTS, parse_query, to_params, to_query
from tension.pipeline.ingest import ingest
from tension.store.engine import Store

START = dt.date(2021, 3, 1)
N_DAYS = 12
USA = "DPRK slams U.S. warmongers' provocation {n}"
CHN = "DPRK and China pledge friendship {n}"
JPN = "Japanese reactionaries slammed by DPRK {n}"
NEUTRAL = "Farmers harvest rice in province {n}"


def day(offset: int) -> str:
    return (START + dt.timedelta(days=offset)).isoformat()


def corpus_rows() -> list[tuple[str, str]]:
    rows = []
    for i in range(N_DAYS):
        rows += [(day(i), USA.format(n=f"{i}-{k}")) for k in range(2)]
        rows += [(day(i), CHN.format(n=f"{i}-{k}")) for k in range(2)]
        rows.append((day(i), NEUTRAL.format(n=i)))
        if i % 4 == 0:
            rows.append((day(i), JPN.format(n=i)))
    return rows


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return headline_store(tmp_path_factory.mktemp("dyads-store"), corpus_rows())


@pytest.fixture
def service(template_db: Path, tmp_path: Path) -> Service:
    store = Store(f"sqlite:///{copy_db(template_db, tmp_path / 'tension.db')}")
    yield Service(store)
    store.dispose()


def trace(fig: dict, name: str) -> dict:
    found = [t for t in fig["data"] if t["name"] == name]
    assert len(found) == 1, f"expected one trace named {name!r}, got {[t['name'] for t in fig['data']]}"
    return found[0]


def values(fig: dict, name: str) -> list[float]:
    return [y for y in trace(fig, name)["y"] if y is not None]


# =========================================================================== the dropdowns
def test_the_dropdown_lists_the_measures_then_the_stores_dyads(service: Service) -> None:
    options = ctl.measure_options(service)
    assert [o["value"] for o in options] == ["intensity", "conflict", "all", "PRK-CHN", "PRK-USA"]
    labels = {o["value"]: o["label"] for o in options}
    assert HEADLINE == "intensity" and labels["intensity"] == "Headline (conflict intensity)"
    assert labels["conflict"] == "Conflict index" and labels["all"] == "Overall tone"
    assert labels["PRK-USA"] == "PRK → USA (24)" and labels["PRK-CHN"] == "PRK → CHN (24)"
    # searchable by the actors' names too
    usa = next(o for o in options if o["value"] == "PRK-USA")
    assert "North Korea" in usa["search"] and "United States" in usa["search"]
    # PRK → JPN has 3 articles: not offered, but kept once chosen (a URL, a heatmap click)
    kept = ctl.measure_options(service, ("PRK-JPN", None))
    assert kept[-1] == {"label": "PRK → JPN", "value": "PRK-JPN"}
    assert len(ctl.measure_options(service, ("PRK-USA", "conflict"))) == len(options)


def test_the_dropdowns_values_go_into_the_view_and_the_url() -> None:
    n = len(ctl.CONTROL_IDS)
    base = ctl.controls_from_view(dict(DEFAULTS))
    assert base[-2:] == [HEADLINE, None]  # the headline shown by name, nothing compared
    assert ctl.view_from_controls(base)["dyad"] == ""  # the headline is the default: not in the URL
    chosen = [*base[:-2], "PRK-USA", "conflict"]
    view = ctl.view_from_controls(chosen)
    assert view["dyad"] == "PRK-USA" and view["compare"] == "conflict"
    _, search = ctl.sync_view("dyad", "", chosen)
    assert search == "?dyad=PRK-USA&compare=conflict"
    assert to_params(parse_query(search))[0].dyad == "PRK-USA"
    # and back from the URL into the dropdowns
    assert ctl.sync_view("url", search, [None] * n)[0][-2:] == ["PRK-USA", "conflict"]
    # a dyad the view options refuse falls back to the headline
    assert parse_query("?dyad=nonsense&compare=PRK-PRK")["dyad"] == ""
    assert to_query(parse_query("?dyad=nonsense")) == ""


# =========================================================================== the chart
def test_choosing_a_dyad_changes_the_charts_line(service: Service) -> None:
    head, head_status, _ = chart.render_view(service, parse_query(""))
    usa, usa_status, _ = chart.render_view(service, parse_query("?dyad=PRK-USA"))
    chn, _, _ = chart.render_view(service, parse_query("?dyad=PRK-CHN"))
    assert values(usa, "daily index") != values(head, "daily index")
    assert values(usa, "smoothed") != values(head, "smoothed")
    # the dyad's own articles: hostile at the United States, friendly with China
    assert min(values(usa, "daily index")) > 0.5
    assert max(values(chn, "daily index")) < -0.5
    assert sum(trace(usa, "articles")["y"]) == 2 * N_DAYS
    assert "Measure: PRK → USA." in "".join(x for x in usa_status if isinstance(x, str))
    assert not any("Measure:" in x for x in head_status if isinstance(x, str))


def test_a_compared_measure_is_a_second_line_named_after_it(service: Service) -> None:
    fig, status, _ = chart.render_view(service, parse_query("?dyad=PRK-USA&compare=PRK-CHN"))
    compared = trace(fig, "PRK → CHN")
    assert max(y for y in compared["y"] if y is not None) < -0.5  # China's line, not the USA's
    assert len(compared["y"]) == len(trace(fig, "smoothed")["y"])  # over the same periods
    assert "compared with PRK → CHN" in "".join(x for x in status if isinstance(x, str))
    # the same smoothing and normalisation as the main line
    alone, _, _ = chart.render_view(service, parse_query("?dyad=PRK-CHN&norm=zscore&smooth=3"))
    both, _, _ = chart.render_view(service, parse_query("?compare=PRK-CHN&norm=zscore&smooth=3"))
    assert trace(both, "PRK → CHN")["y"] == trace(alone, "smoothed")["y"]
    # weeks and months, and dates that cut a week: the compared line covers the main line's days
    # (it took each period's first day only as its last period: one day of the last week)
    for query in ("freq=W", "freq=M", f"freq=W&from={day(2)}&to={day(9)}", f"freq=W&from={day(2)}&smooth=1"):
        alone, _, _ = chart.render_view(service, parse_query(f"?dyad=PRK-CHN&{query}"))
        both, _, _ = chart.render_view(service, parse_query(f"?dyad=PRK-USA&compare=PRK-CHN&{query}"))
        assert trace(both, "PRK → CHN")["y"] == trace(alone, "smoothed")["y"], query
    # nothing compared, or the measure itself: no second line
    for search in ("?dyad=PRK-USA", "?dyad=PRK-USA&compare=PRK-USA", "?compare=all"):
        fig, _, _ = chart.render_view(service, parse_query(search))
        assert not [t for t in fig["data"] if "→" in t["name"]], search


def test_the_spike_list_and_the_evidence_follow_the_dyad(service: Service) -> None:
    chosen = {"start": day(4), "end": day(4)}
    text = lambda c: repr(c)  # noqa: E731
    usa = text(evidence.evidence_panel(service, parse_query("?dyad=PRK-USA"), chosen))
    assert "U.S. warmongers" in usa and "China pledge" not in usa
    chn = text(evidence.evidence_panel(service, parse_query("?dyad=PRK-CHN"), chosen))
    assert "China pledge" in chn and "U.S. warmongers" not in chn
    head = text(evidence.evidence_panel(service, parse_query(""), chosen))
    assert "U.S. warmongers" in head and "China pledge" in head
    # spikes are found in the dyad's own series: its articles only
    assert len(service.articles(to_params(parse_query("?dyad=PRK-USA"))[0])) == 2 * N_DAYS
    assert len(service.articles(to_params(parse_query(""))[0])) == len(corpus_rows())


# =========================================================================== the heatmap
def cells(fig: dict) -> dict[tuple[str, str], tuple[float, list]]:
    """(source, target) → (tension, customdata) of each cell drawn."""
    heat = fig["data"][0]
    return {(y, x): (z, c) for x, y, z, c in zip(heat["x"], heat["y"], heat["marker"]["color"],
                                                 heat["customdata"], strict=True)}


def test_the_heatmap_has_a_cell_per_dyad_with_its_tension_and_count(service: Service) -> None:
    fig, note = dyads.render_heatmap(service, parse_query(""))
    marker = fig["data"][0]["marker"]
    assert marker["cmid"] == 0 and marker["cmin"] == -marker["cmax"]  # diverging, centred on 0
    assert fig["layout"]["yaxis"]["categoryarray"] == ["PRK"]  # rows: sources
    assert sorted(fig["layout"]["xaxis"]["categoryarray"]) == ["CHN", "JPN", "USA"]  # columns: targets
    found = cells(fig)
    assert sorted(found) == [("PRK", "CHN"), ("PRK", "JPN"), ("PRK", "USA")]
    z, (pair, n, value) = found[("PRK", "USA")]
    assert z > 0.5 and n == 24 and value == "PRK-USA"
    assert pair == "North Korea (PRK) → United States (USA)"
    assert found[("PRK", "CHN")][0] < -0.5 and found[("PRK", "JPN")][1][1] == 3
    assert "2021-03-01 to 2021-03-12" in note
    # the chart's dates: a shorter view counts only its days
    fig, note = dyads.render_heatmap(service, parse_query(f"?from={day(0)}&to={day(1)}"))
    assert {c[2]: c[1] for _, c in cells(fig).values()} == {"PRK-USA": 4, "PRK-CHN": 4, "PRK-JPN": 1}
    # the charted dyad is outlined
    fig, _ = dyads.render_heatmap(service, parse_query("?dyad=PRK-USA"))
    (shape,) = fig["layout"]["shapes"]
    col = fig["layout"]["xaxis"]["categoryarray"].index("USA")
    assert (shape["x0"], shape["x1"], shape["y0"], shape["y1"]) == (col - 0.5, col + 0.5, -0.5, 0.5)


def test_a_cell_click_charts_that_dyad(service: Service) -> None:
    fig, _ = dyads.render_heatmap(service, parse_query(""))
    z, custom = cells(fig)[("PRK", "JPN")]
    click = {"points": [{"x": "JPN", "y": "PRK", "marker.color": z, "customdata": custom}]}
    assert dyads.dyad_from_click(click) == "PRK-JPN"
    assert dyads.dyad_from_click(None) is None
    assert dyads.dyad_from_click({"points": [{"x": "JPN", "y": "PRK"}]}) is None
    # the dyad goes into the dropdown, which keeps it listed though it is under the floor
    assert "PRK-JPN" in [o["value"] for o in ctl.measure_options(service, ("PRK-JPN",))]
    # with no day chosen, a click shows the dyad's evidence over the heatmap's dates (short)
    view = parse_query("")
    assert dyads.evidence_range(service, view, None) == {"start": day(0), "end": day(N_DAYS - 1)}
    assert dyads.evidence_range(service, view, {"start": day(3), "end": day(3)}) is None
    assert dyads.evidence_range(service, parse_query("?from=2000-01-01"), None) is None  # too long


def test_the_heatmap_keeps_to_the_actors_with_most_articles_and_escapes_its_text() -> None:
    codes = [f"A{k:02d}" for k in range(16)] + ["<b>X</b>"]
    matrix = pd.DataFrame([{"source_actor": s, "target_actor": t, "n_articles": 100 - i - j,
                            "tension": 0.1, "hostility": 0.2, "conciliation": 0.1}
                           for i, s in enumerate(codes) for j, t in enumerate(codes) if s != t])
    top = dyads.top_actors(matrix)
    assert top == codes[:dyads.TOP_ACTORS]
    layout = dyads.heatmap_figure(matrix)["layout"]
    assert layout["yaxis"]["categoryarray"] == top and layout["xaxis"]["categoryarray"] == top
    evil = matrix.assign(n_articles=1).loc[lambda m: (m.source_actor == "<b>X</b>") | (m.target_actor == "A00")]
    evil.loc[evil.source_actor == "<b>X</b>", "n_articles"] = 50
    fig = dyads.heatmap_figure(evil)
    heat = fig["data"][0]
    shown = [c[0] for c in heat["customdata"]] + heat["x"] + heat["y"] + fig["layout"]["yaxis"]["categoryarray"]
    assert "&lt;b&gt;X&lt;/b&gt; (&lt;b&gt;X&lt;/b&gt;) → A00 (A00)" in shown and "&lt;b&gt;X&lt;/b&gt;" in heat["y"]
    assert not [t for t in shown if "<" in t]


def test_an_empty_store_has_an_empty_heatmap(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        service = Service(store)
        fig, note = dyads.render_heatmap(service, parse_query(""))
        assert fig["data"][0]["x"] == [] and "No article" in note
        assert [o["value"] for o in ctl.measure_options(service)] == [HEADLINE, "conflict", "all"]
    finally:
        store.dispose()


def test_a_source_that_speaks_for_no_actor_is_left_out_of_the_dyad_choices(tmp_path: Path) -> None:
    """Wire copy speaks for no actor: its dyad rows have no source, and no "A-B" names them. The
    dropdown listed " → PRK" (value "-PRK", which charted the headline instead) and the heatmap
    had a row without a name; both leave them out, and the note says why."""
    path = tmp_path / "wire.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "source", "title"])
        for i in range(N_DAYS):
            for k in range(3):
                w.writerow([day(i), "Wire", f"New sanctions on North Korea feared to raise the risk of war {i}-{k}"])
            w.writerow([day(i), "KCNA", USA.format(n=i)])
    store = Store(f"sqlite:///{tmp_path / 'wire.db'}")
    try:
        assert ingest(store, [str(path)]).added == 4 * N_DAYS
        service = Service(store)
        everything = service.dyad_matrix(ctl.Selection())
        assert (everything["source_actor"] == "").any()  # the wire's rows are there...
        values = [o["value"] for o in ctl.measure_options(service)]
        assert not [v for v in values if v.startswith("-")]  # ...but not among the choices
        fig, note = dyads.render_heatmap(service, parse_query(""))
        assert "" not in fig["layout"]["yaxis"]["categoryarray"] and "PRK" in fig["layout"]["yaxis"]["categoryarray"]
        assert all(not c[2].startswith("-") for c in fig["data"][0]["customdata"])
        assert "speak for no actor" in note and "--actor" in note
    finally:
        store.dispose()


def test_the_evidence_of_a_dyad_the_selection_refuses_says_why(service: Service) -> None:
    """A dyad with a lexicon category (or an unknown actor) is refused by the selection; the
    chart said so, and the evidence panel raised (a server error on the page)."""
    chosen = {"start": day(4), "end": day(4)}
    for query in ("?dyad=PRK-USA&category=war_nuclear", "?dyad=XYZ-USA"):
        out = evidence.evidence_panel(service, parse_query(query), chosen)
        assert len(out) == 1 and out[0].className == "error", query
        _, status, _ = chart.render_view(service, parse_query(query))
        assert out[0].children == status[0].children, query  # the same words as the chart's


def test_the_evidence_follows_the_dyad_and_the_categories(template_db: Path, tmp_path: Path) -> None:
    """A category chosen after a day left the evidence of the day as it was (the chart showed
    the refusal of a dyad with a category, the evidence the dyad's articles): the evidence's
    callback fires on the categories as on the dyad."""
    from tension.dashboard.app import create_app

    app = create_app(f"sqlite:///{copy_db(template_db, tmp_path / 'tension.db')}", seed=False,
                     upload_dir=tmp_path / "uploads")
    try:
        wiring = next(v for k, v in app.callback_map.items() if "evidence.children" in k)
        fired_by = {f"{i['id']}.{i['property']}" for i in wiring["inputs"]}
        assert {"selection.data", "dyad.value", "categories.value"} <= fired_by
        assert "freq.value" not in fired_by  # the rest is read, not listened to
    finally:
        app.server.extensions["tension"]["service"].store.dispose()
