"""The evidence panel: the articles of the chosen day or range ranked by contribution, with
their sentences, the lexicon entries that fired and the actors named (speaker and targets),
and the word shift against the weeks before."""

from __future__ import annotations

import datetime as dt
import itertools
import re

from dash import Dash, Input, Output, State, dcc, html

from tension.core.filters import FilterError
from tension.core.hashing import content_hash
from tension.dashboard.panels.controls import CONTROL_IDS, view_from_controls
from tension.dashboard.service import Service
from tension.dashboard.view import to_params


def marked_spans(matches: list[dict]) -> list[dict]:
    """The cues to mark, none overlapping: the strongest first (lexicon entries before words of
    the same strength), then in reading order."""
    chosen: list[dict] = []
    for m in sorted(matches, key=lambda m: (-abs(m.get("contribution", m.get("effective", 0.0))),
                                             m.get("kind") != "lexicon", m["start"])):
        if all(m["end"] <= c["start"] or m["start"] >= c["end"] for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m["start"])


def _tip(m: dict) -> str:
    what = m["category"] if m.get("kind") != "words" else "words"
    tip = f"{m['term']} · {what}"
    if "contribution" in m:
        tip += f" · contribution {m['contribution']:+.3f}"
    if m.get("kind", "lexicon") == "lexicon":
        tip += f" · weight {m['weight']}"
    mods = ", ".join(m.get("modifiers", []))
    return tip + (f" · {mods}" if mods else "")


ABBREVIATION = re.compile(r"(?:[A-Za-z]\.\s?)+[A-Za-z]")  # "U.S", "D.P.R.K", not "S. Korea"


def _role(actor: dict, sentence: dict, source_actor: str = "") -> str:
    code = actor["code"]
    if actor.get("place"):
        return "place"  # where an act happened: no target (docs/methodology.md §2b)
    if code == (sentence.get("speaker") or source_actor):
        return "speaker"
    return "target" if code in sentence.get("targets", ()) else "named"


def _cue_mark(cue: dict, pieces: list, who: str) -> html.Mark:
    value = cue.get("contribution", cue.get("effective"))
    pole = cue["pole"] if "contribution" not in cue else ("hostility" if value >= 0 else "conciliation")
    cls = f"hit {pole} {cue.get('kind', 'lexicon')}" + (" muted-hit" if not value else "")
    whole = len(pieces) == 1 and not isinstance(pieces[0], str)  # the cue is an actor's name
    return html.Mark(pieces[0].children if whole else pieces if len(pieces) > 1 else pieces[0],
                     className=cls + (" actor" if whole else ""), title=_tip(cue) + (f" · {who}" if who else ""))


def highlight(sentence: dict, source_actor: str = "") -> list:
    """The sentence with its cues (lexicon entries, words) in <mark> elements and the actors it
    names underlined, inside a cue or across its edge too (a cue that is an actor's name is
    both); the text stays escaped (React text nodes)."""
    text = sentence["sentence"]
    cues = marked_spans(sentence["matches"])
    actors = list(sentence.get("actors", ()))
    cuts = sorted({0, len(text), *(x[k] for x in cues + actors for k in ("start", "end"))})

    def at(spans: list[dict], i: int) -> dict | None:
        return next((x for x in spans if x["start"] <= i < x["end"]), None)

    def who(actor: dict) -> str:
        return f"actor {actor['code']} · {_role(actor, sentence, source_actor)}"

    out: list = []
    for lo, hi in itertools.pairwise(cuts):
        cue, actor = at(cues, lo), at(actors, lo)
        piece = html.Span(text[lo:hi], className="actor", title=who(actor)) if actor else text[lo:hi]
        last = out[-1] if out else None
        if cue is not None and isinstance(last, tuple) and last[0] is cue:
            last[1].append(piece)  # the same cue goes on: one mark
            last[2].update({who(actor)} if actor else ())
        elif cue is not None:
            out.append((cue, [piece], {who(actor)} if actor else set()))
        elif isinstance(piece, str) and isinstance(last, str):
            out[-1] += piece
        else:
            out.append(piece)
    return [_cue_mark(x[0], x[1], " · ".join(sorted(x[2]))) if isinstance(x, tuple) else x for x in out]


def _as_written(mention: dict, text: str) -> str:
    """ "U.S." as written: the matcher's words leave an abbreviation's last dot out of the name."""
    dot = ABBREVIATION.fullmatch(mention["text"]) and text[mention["end"]:mention["end"] + 1] == "."
    return mention["text"] + ("." if dot else "")


def _mention(mention: dict, text: str) -> str:
    where = " (place)" if mention.get("place") else ""  # named where an act happened: no target
    return f"{_as_written(mention, text)} {mention['code']}{where}"


def actors_line(sentence: dict, source_actor: str = "") -> html.Div | None:
    """Who the sentence names, who speaks (a reported speaker, else the actor its source speaks
    for) and at whom it is aimed: the speaker is never its own target (docs/methodology.md §2b)."""
    mentions = sentence.get("actors") or []
    if not mentions:
        return None
    speaker = sentence.get("speaker") or source_actor
    named = " · ".join(_mention(m, sentence["sentence"]) for m in mentions)
    voice = f"said by {speaker}" if speaker else "in the voice of a source that speaks for no actor"
    aimed = ", ".join(t for t in sentence.get("targets") or [] if t != speaker) or "no other actor"
    return html.Div(f"actors: {named}; {voice}, aimed at {aimed}", className="actors muted")


def why_line(sentence: dict) -> html.Span | None:
    """The sentence's contributions, largest first, adding up to its tension."""
    items = sorted(sentence["matches"], key=lambda m: -abs(m.get("contribution", 0.0)))
    parts = [f"{m['contribution']:+.2f} {m['text']}" for m in items if "contribution" in m]
    parts += [f"{r['contribution']:+.2f} {r['term']}" for r in sentence.get("readings", [])]
    if not parts:
        return None
    return html.Span(f" = {sentence['tension']:+.2f}: " + " · ".join(parts), className="why muted")


LABEL_BUTTONS = (("hostile", "H"), ("neutral", "N"), ("conciliatory", "C"))


def label_buttons(text: str, texts: dict[str, str], current: dict | None = None, slot: int = 0) -> html.Span:
    """Three small buttons that label a sentence for the model (the one set is marked);
    `texts` collects key → sentence for the callback that stores the label. `slot` tells
    apart two places that show the same sentence (ids must be unique on the page)."""
    key = content_hash("", text)
    texts[key] = text
    chosen = (current or {}).get("label")
    by = f" by {current['author']}" if current and current.get("author") else ""
    return html.Span(className="label-buttons", children=[
        html.Button(short, id={"type": "label", "label": label, "key": key, "slot": slot}, n_clicks=0,
                    className="small" + (" chosen" if label == chosen else ""),
                    title=f"label this sentence {label}" + (f" (labelled {chosen}{by})" if chosen else ""))
        for label, short in LABEL_BUTTONS])


def evidence_panel(service: Service, view: dict, selection: dict | None,
                   texts: dict[str, str] | None = None) -> list:
    """Articles of the selected day/range ranked by contribution, what moved it, and the
    sentences the model is least sure of; each sentence can be labelled (`texts` collects
    the labelled sentences' keys)."""
    texts = {} if texts is None else texts
    if not selection:
        return [html.P("Click a day or select a range on the chart.", className="muted")]
    start = dt.date.fromisoformat(selection["start"])
    end = dt.date.fromisoformat(selection["end"])
    try:
        sel, opts = to_params(view)
        data = service.day(sel, start, end, opts)
    except (FilterError, ValueError) as exc:  # what the chart says too (a dyad with a category)
        return [html.P(str(exc), className="error")]
    why, arts = data["explain"], data["articles"]
    span = selection["start"] if start == end else f"{selection['start']} to {selection['end']}"
    season = data.get("season")
    adjusted = season and why["n_target"] and season["target"] != 0
    head = html.P([html.B(span), f": {why['n_target']} articles, mean tension {why['mean_target']:+.3f}"
                   if why["n_target"] else ": no articles.",
                   f"; seasonally adjusted: {why['mean_target'] - season['target']:+.3f} "
                   f"(the usual part of this time of year, {season['target']:+.3f}, taken out)"
                   if adjusted else ""])
    out = [head]
    if why["n_target"] and why["n_baseline"]:
        # the time of year's part of the change, so that the terms add up to the chart's change
        calendar = (season["target"] - season["baseline"]) if season else 0.0
        out.append(html.P(f"Compared with the 28 days before ({why['mean_baseline']:+.3f} over "
                          f"{why['n_baseline']} articles): {why['delta']:+.3f}"
                          + (f"; seasonally adjusted {why['delta'] - calendar:+.3f}." if calendar else ".")))
        shifts = [html.Li([html.Span(f"{t['shift']:+.3f} ", className=t["pole"]), t["term"],
                           html.Span(f" ({t['category']}; {t['n_target']} vs {t['n_baseline']} "
                                     "articles)" if t["category"] else "", className="muted")])
                  for t in why["terms"][:10]]
        if calendar:
            shifts.insert(0, html.Li([html.Span(f"{-calendar:+.3f} ", className="muted"), "the time of year",
                                      html.Span(" (the seasonal adjustment: how the same days of the other "
                                                "years differ from the 28 days before them)", className="muted")]))
        words = html.P(f"Not listed: {why['terms_unavailable']}." if why.get("terms_unavailable")
                       else "No term.", className="muted")
        out += [html.H3("What moved it"), html.Ul(shifts, className="shift") if shifts else words]
        if shifts and not why["terms"]:  # the time of year alone: still say why no word is listed
            out.append(words)
    shown = [s["sentence"] for a in arts for s in a["evidence"]] + [r["text"] for r in data["review"]]
    current = service.labels_for(shown)
    slots = itertools.count()
    if arts:  # the panel lists the strongest articles only: say so when there are more
        more = f": the top {len(arts):,} of {why['n_target']:,}" if len(arts) < why["n_target"] else ""
        out.append(html.H3(f"Articles, by contribution{more}"))
    for a in arts:
        own = a.get("source_actor", "")
        sentences = [html.Li([html.Span(highlight(s, own), className="sentence"), why_line(s),
                              label_buttons(s["sentence"], texts, current.get(s["sentence"]), next(slots)),
                              actors_line(s, own)])
                     for s in a["evidence"]] or [html.Li("no evidence", className="muted")]
        link = html.A("source", href=a["url"], target="_blank", rel="noopener noreferrer") \
            if a["url"].startswith(("http://", "https://")) else None
        out.append(html.Details(className="article " + a["label"], children=[
            html.Summary([html.Span(f"{a['tension']:+.2f} ", className="score"),
                          a["title"] or "(untitled)", html.Span(f" · {a['source']} · {a['date']}",
                                                                className="muted")]),
            html.Ul(sentences, className="sentences"), link,
        ]))
    if data["review"]:
        out += [html.H3("Review these first"),
                html.P("The sentences of these days the model is least sure of: a label here "
                       "teaches it most.", className="muted"),
                html.Ul([html.Li([html.Span(r["text"], className="sentence"),
                                  html.Span(f" model: {r['predicted']} ({r['confidence']:.0%}) · "
                                            f"{r['date']}", className="muted"),
                                  label_buttons(r["text"], texts, current.get(r["text"]), next(slots))])
                         for r in data["review"]],
                        className="review")]
    return out


def layout() -> html.Section:
    return html.Section(className="panel evidence", id="evidence-panel", children=[
        html.H2("Evidence"), dcc.Store(id="evidence-texts"),
        html.Div(id="evidence", children=html.P(
            "Click a day or select a range on the chart.", className="muted"))])


def register(app: Dash, service: Service) -> None:
    """Connect this panel's plain functions to the page."""

    # the measure or dyad and the categories too: a dyad chosen (in the dropdown, or by a
    # heatmap click) shows the chosen day's articles aimed at it; a category, its sub-index's
    # (or the refusal of a dyad with a category, as the chart says it)
    follow = {("dyad", "value"), ("categories", "value")}

    @app.callback(Output("evidence", "children"), Output("evidence-texts", "data"),
                  Input("selection", "data"), Input("labels-version", "data"),
                  [Input(c, p) if (c, p) in follow else State(c, p) for c, p in CONTROL_IDS],
                  prevent_initial_call=True)
    def _evidence(selection, _labels, *values):
        texts: dict[str, str] = {}
        return evidence_panel(service, view_from_controls(list(values)), selection, texts), texts
