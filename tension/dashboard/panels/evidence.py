"""The evidence panel: the articles of the chosen day or range ranked by contribution, with
their sentences and the lexicon entries that fired, and the word shift against the weeks before."""

from __future__ import annotations

import datetime as dt

from dash import Dash, Input, Output, State, html

from tension.dashboard.panels.controls import CONTROL_IDS, view_from_controls
from tension.dashboard.service import Service
from tension.dashboard.view import to_params


def highlight(sentence: dict) -> list:
    """The sentence with its matched lexicon phrases in <mark> elements (text stays escaped)."""
    text, out, pos = sentence["sentence"], [], 0
    for m in sorted(sentence["matches"], key=lambda m: m["start"]):
        if m["start"] < pos:
            continue
        out.append(text[pos:m["start"]])
        mods = ", ".join(m["modifiers"])
        tip = f"{m['term']} · {m['category']} · weight {m['weight']}" + (f" · {mods}" if mods else "")
        cls = "hit " + m["pole"] + (" muted-hit" if not m["effective"] else "")
        out.append(html.Mark(text[m["start"]:m["end"]], className=cls, title=tip))
        pos = m["end"]
    out.append(text[pos:])
    return out


def evidence_panel(service: Service, view: dict, selection: dict | None) -> list:
    """Articles of the selected day/range ranked by contribution, and what moved it."""
    if not selection:
        return [html.P("Click a day or select a range on the chart.", className="muted")]
    sel, _ = to_params(view)
    start = dt.date.fromisoformat(selection["start"])
    end = dt.date.fromisoformat(selection["end"])
    data = service.day(sel, start, end)
    why, arts = data["explain"], data["articles"]
    span = selection["start"] if start == end else f"{selection['start']} to {selection['end']}"
    head = html.P([html.B(span), f": {why['n_target']} articles, mean tension {why['mean_target']:+.3f}"
                   if why["n_target"] else ": no articles."])
    out = [head]
    if why["n_target"] and why["n_baseline"]:
        out.append(html.P(f"Compared with the 28 days before ({why['mean_baseline']:+.3f} over "
                          f"{why['n_baseline']} articles): {why['delta']:+.3f}."))
        shifts = [html.Li([html.Span(f"{t['shift']:+.3f} ", className=t["pole"]), t["term"],
                           html.Span(f" ({t['category']}; {t['n_target']} vs {t['n_baseline']} "
                                     "articles)", className="muted")])
                  for t in why["terms"][:10]]
        out += [html.H3("What moved it"), html.Ul(shifts, className="shift")]
    if arts:  # the panel lists the strongest articles only: say so when there are more
        more = f": the top {len(arts):,} of {why['n_target']:,}" if len(arts) < why["n_target"] else ""
        out.append(html.H3(f"Articles, by contribution{more}"))
    for a in arts:
        sentences = [html.Li(highlight(s)) for s in a["evidence"]] or [html.Li("no lexicon matches",
                                                                                className="muted")]
        link = html.A("source", href=a["url"], target="_blank", rel="noopener noreferrer") \
            if a["url"].startswith(("http://", "https://")) else None
        out.append(html.Details(className="article " + a["label"], children=[
            html.Summary([html.Span(f"{a['tension']:+.2f} ", className="score"),
                          a["title"] or "(untitled)", html.Span(f" · {a['source']} · {a['date']}",
                                                                className="muted")]),
            html.Ul(sentences, className="sentences"), link,
        ]))
    return out


def layout() -> html.Section:
    return html.Section(className="panel evidence", children=[
        html.H2("Evidence"), html.Div(id="evidence", children=html.P(
            "Click a day or select a range on the chart.", className="muted"))])


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    @app.callback(Output("evidence", "children"), Input("selection", "data"),
                  [State(c, p) for c, p in CONTROL_IDS], prevent_initial_call=True)
    def _evidence(selection, *values):
        return evidence_panel(service, view_from_controls(list(values)), selection)
