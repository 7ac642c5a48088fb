"""The main chart, built as a plain dict (no validation pass: it is rebuilt on every interaction).

Hostility reads red, conciliation blue. Annotations and reference events are rebuilt
from the store on every redraw, so nothing drawn in the browser can be lost.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from tension.core.dates import FIRST_DAY, LAST_DAY

RED, BLUE, INK, GREY = "#c0392b", "#2163a6", "#222222", "#9aa0a6"
LAYERS = ("band", "points", "hostility", "conciliation", "counts", "spikes", "annotations", "events")
DEFAULT_LAYERS = ["band", "points", "counts", "spikes", "annotations", "events"]
# Beyond this many periods (about three years of days) the index and the counts are drawn
# as one path each, not one shape per period: with a dot and a bar for each of the 6,477
# days (twice, with the range slider) a long view took seconds to draw in Chromium.
MANY_PERIODS = 1100
# Those views have no range slider either: it draws every trace a second time, which was
# most of Chromium's drawing time (docs/benchmarks.md); the range buttons and the toolbar's
# zoom remain.
SHORT_VIEW_DAYS = 7  # a daily view shorter than this is drawn over a week, ticked in days
DRAGMODES = ("select", "zoom", "pan", "lasso")  # the toolbar's; the page keeps the chosen one
COUNTS_STRIP = 0.22  # the article counts' share of the plot's height, at its bottom
STRIP_GAP = 0.03  # between the counts' strip and the index above it
# Reference events are labelled on views of at most this many days or events: on 18 years
# their labels would be a solid band (their hover still names each one).
EVENT_LABEL_DAYS, EVENT_LABEL_MAX = 1100, 40
EVENT_COLOR = "#b9651c"


def _num(values: pd.Series, digits: int = 4) -> list:
    """Rounded floats for JSON, None for missing (a gap in the chart, never a zero)."""
    arr = np.round(pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"), digits)
    out = arr.astype(object)
    out[np.isnan(arr)] = None
    return out.tolist()


def _text(value: object) -> str:
    """User or article text for plotly labels: inert (no markup), quotes left readable."""
    return html.escape(str(value), quote=False)


def _x(table: pd.DataFrame, freq: str) -> dict:
    """Regular periods are sent as x0 + dx (no date array): a much smaller payload. Weeks
    and months are drawn across their period (plotly's period positioning), not centred
    on its first day, where a month's bar would cover the second half of the month before."""
    dates = pd.to_datetime(table["date"])
    if freq in ("D", "W") and len(dates):
        x: dict = {"x0": dates.iloc[0].strftime("%Y-%m-%d"), "dx": 86_400_000 * (1 if freq == "D" else 7)}
    else:
        x = {"x": dates.dt.strftime("%Y-%m-%d").tolist()}
    return {**x, **_period(freq)}


def _period(freq: str) -> dict:
    """plotly period positioning for weeks (Monday to Sunday, as `tension.index` counts
    them) and months: each value is drawn across its period, centred in it. plotly's own
    weeks start on Sunday, so a Monday is given as the weeks' origin."""
    if freq == "W":
        return {"xperiod": 7 * 86_400_000, "xperiod0": "2000-01-03", "xperiodalignment": "middle"}
    if freq == "M":
        return {"xperiod": "M1", "xperiod0": "2000-01-01", "xperiodalignment": "middle"}
    return {}


HOVER_PERIOD = {"D": "%{x|%Y-%m-%d}", "W": "week of %{x|%Y-%m-%d}", "M": "%{x|%B %Y}"}
PERIOD_OF = {"W": "W-SUN", "M": "M"}  # pandas periods of `tension.index`'s weeks and months
SCALE_NAMES = {"raw": "", "zscore": " (z-score)", "base100": " (base 100)", "seasonal": " (seasonally adjusted)"}  # after a value


def period_start(day: object, freq: str) -> pd.Timestamp:
    """The first day of the week (Monday) or month holding `day`; the day itself for "D"."""
    ts = pd.Timestamp(day).normalize()
    return ts if freq == "D" else ts.to_period(PERIOD_OF[freq]).start_time


def index_figure(table: pd.DataFrame, *, freq: str = "D", layers: list[str] | None = None,
                 spikes: pd.DataFrame | None = None, annotations: list[dict] | None = None,
                 events: pd.DataFrame | None = None, phrases: pd.Series | None = None,
                 normalize: str = "raw", uirevision: str = "index", chosen: dict | None = None,
                 smoothing: str = "", base: str = "all days", dragmode: str | None = None,
                 compare: tuple[str, pd.DataFrame] | None = None, today: object = None) -> dict:
    """The index chart: points, smoothed line, band, sub-series, counts, spikes, annotations,
    events, and the chosen day or range shaded (`chosen_shape`, always the first shape);
    `compare`: another measure's name and index table, drawn as a second smoothed line;
    `today`: the live edge, marked when the view reaches it (its day is still filling)."""
    layers = DEFAULT_LAYERS if layers is None else layers
    x = _x(table, freq)
    traces: list[dict] = []
    if "band" in layers:
        traces.append({**_band_trace(table), **_period(freq)})
    if "counts" in layers:
        counts = {"name": "articles", **x, "y": table["n_articles"].astype(int).tolist(), "yaxis": "y2",
                  "opacity": 0.35, "hovertemplate": "%{y} articles<extra></extra>"}
        if len(table) > MANY_PERIODS:  # one filled step path instead of thousands of bars
            traces.append({**counts, "type": "scatter", "mode": "lines", "fill": "tozeroy",
                           "line": {"shape": "hvh", "width": 0, "color": GREY}, "fillcolor": GREY})
        else:
            traces.append({**counts, "type": "bar", "marker": {"color": GREY}})
    if "points" in layers:
        phrase = [""] * len(table)
        if phrases is not None and len(phrases) and freq == "D":  # a day's phrase: not a month's
            found = pd.to_datetime(table["date"]).map(phrases)
            phrase = [_text(p) if isinstance(p, str) else "" for p in found]
        custom = [list(row) for row in zip(_num(table["ci_low"]), _num(table["ci_high"]),
                                             table["n_articles"].astype(int).tolist(), phrase, strict=True)]
        if len(table) > MANY_PERIODS:
            # a long view's line: a click takes the day its hover names (the cursor's own date
            # is days off at several days a pixel); the tag tells the click callback so
            custom = [[*row, "line"] for row in custom]
        y = _num(table["tension"])
        if len(table) > MANY_PERIODS:  # a thin line: thousands of dots are one blur at this width
            look = {"mode": "lines", "line": {"color": "#8c96a0", "width": 0.7}}
        else:
            look = {"mode": "markers", "marker": {
                "size": 4, "color": y, "colorscale": [[0, BLUE], [0.5, "#bbbbbb"], [1, RED]],
                "cmid": 0 if normalize in ("raw", "seasonal") else None, "showscale": False}}
        traces.append({
            "type": "scatter", **look, "name": "daily index" if freq == "D" else "index",
            **x, "y": y, "customdata": custom,
            "hovertemplate": (HOVER_PERIOD[freq] + "<br>index %{y:.3f}<br>band %{customdata[0]:.3f} to "
                              "%{customdata[1]:.3f}<br>%{customdata[2]} articles<br>"
                              "<i>%{customdata[3]}</i><extra></extra>"),
        })
    traces.append({"type": "scatter", "mode": "lines", "name": "smoothed", **x,
                   "y": _num(table["tension_smoothed"]), "line": {"color": INK, "width": 2},
                   "connectgaps": False,
                   "hovertemplate": f"smoothed{' (' + smoothing + ')' if smoothing else ''} %{{y:.3f}}<extra></extra>"})
    if compare is not None:
        traces.append(compare_trace(compare[1], freq, compare[0]))
    for col, color, name in (("hostility", RED, "hostility"), ("conciliation", BLUE, "conciliation")):
        traces.append({"type": "scatter", "mode": "lines", "name": name, **x, "y": _num(table[col]),
                       "line": {"color": color, "width": 1.2},
                       "visible": True if col in layers else "legendonly",
                       "hovertemplate": name + " %{y:.3f}<extra></extra>"})
    if "spikes" in layers and spikes is not None and len(spikes):
        traces += _spike_traces(table, spikes, freq, normalize)
    shapes, notes = [], []
    if "annotations" in layers and annotations:
        shapes, notes = _annotation_shapes(annotations, _view_span(table))
    if "events" in layers and events is not None and len(events):
        traces.append(_event_trace(events))
        notes += _event_labels(events, _view_span(table))
    edge = live_edge(table, today, freq)
    if edge is not None:
        shapes.append(edge[0])
        notes.append(edge[1])
    # the axis says the scale and, when rescaled, against what (the base period)
    y_title = {"raw": "tension (hostility − conciliation)", "zscore": f"tension, z-score vs {base}",
               "base100": f"tension, 100 = mean of {base}",
               "seasonal": f"tension, seasonally adjusted against {base}"}[normalize]
    layout = {
        # The page's own state (the drag mode the analyst chose, legend clicks) survives every
        # redraw; the axes' zoom only while the view's dates stay (new dates fit the axis).
        "uirevision": "page",
        "margin": {"l": 60, "r": 60, "t": 30, "b": 30},
        "height": 460,
        "hovermode": "closest",
        "clickanywhere": True,
        "dragmode": dragmode if dragmode in DRAGMODES else "select",
        "selectdirection": "h",
        # Left-aligned: on the right the mode bar covers the last legend entries.
        "legend": {"orientation": "h", "y": 1.1, "x": 0, "xanchor": "left"},
        "xaxis": {"type": "date", "uirevision": uirevision, "rangeslider": {"visible": len(table) <= MANY_PERIODS, "thickness": 0.07}, **_x_range(table, freq),
                  "rangeselector": {"buttons": [
                      {"count": 1, "label": "1M", "step": "month", "stepmode": "backward"},
                      {"count": 6, "label": "6M", "step": "month", "stepmode": "backward"},
                      {"count": 1, "label": "1Y", "step": "year", "stepmode": "backward"},
                      {"step": "all", "label": "all"}]}},
        # above the counts' strip: over the whole height, the bars hid the lowest values
        "yaxis": {"uirevision": uirevision, "title": {"text": y_title}, "zeroline": True, "zerolinecolor": "#888",
                  "domain": [COUNTS_STRIP + STRIP_GAP, 1]},
        # Whole counts, each once: plotly's auto ticks step by fractions on small counts, and
        # ",d" then shows 0, 0, 1, 1, 2, 2; an explicit whole step does not.
        # The counts keep to a strip at the bottom (their own axis there): drawn over the
        # whole height, their grey bars filled the plot behind the grey band.
        "yaxis2": {"domain": [0, COUNTS_STRIP], "anchor": "x", "side": "right", "showgrid": False,
                   "rangemode": "tozero",
                   "tickmode": "linear", "tick0": 0, "dtick": count_dtick(_max_count(table)),
                   "tickformat": ",d", "title": {"text": "articles"}},
        "yaxis3": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        "shapes": [chosen_shape(chosen, freq), *shapes],
        "annotations": notes,
        "plot_bgcolor": "white",
    }
    return {"data": traces, "layout": layout}


def blank_figure() -> dict:
    """The chart of a view the selection refuses (its status line says why): no axes to read
    as data, nothing to click (a click chose a day of an empty year 2000)."""
    hidden = {"visible": False, "fixedrange": True}
    return {"data": [], "layout": {"height": 460, "xaxis": hidden, "yaxis": hidden, "dragmode": False,
                                   "plot_bgcolor": "white", "margin": {"l": 60, "r": 60, "t": 30, "b": 30}}}


COMPARE_COLOR = "#1e8449"


def live_edge(table: pd.DataFrame, today: object, freq: str = "D") -> tuple[dict, dict] | None:
    """A shaded band over today's period and a note saying it is partial, when the view's
    last period holds today (a live source's day is still filling)."""
    if today is None or not len(table):
        return None
    start = period_start(today, freq)
    last = pd.Timestamp(table["date"].max())
    if start != last:
        return None
    end = start + {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1), "M": pd.DateOffset(months=1)}[freq]
    shape = {"type": "rect", "xref": "x", "yref": "paper", "x0": start.isoformat(), "x1": end.isoformat(),
             "y0": 0, "y1": 1, "fillcolor": "#f5e6b3", "opacity": 0.35, "line": {"width": 0}, "layer": "below",
             "name": "live-edge"}
    note = {"x": start.isoformat(), "y": 1, "xref": "x", "yref": "paper", "text": "today (partial)",
            "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 10, "color": "#8a6d00"}}
    return shape, note


def compare_trace(table: pd.DataFrame, freq: str, name: str) -> dict:
    """A compared measure's smoothed line (same smoothing and scale as the main one)."""
    return {"type": "scatter", "mode": "lines", "name": _text(name), **_x(table, freq),
            "y": _num(table["tension_smoothed"]), "line": {"color": COMPARE_COLOR, "width": 2, "dash": "dash"},
            "connectgaps": False, "customdata": table["n_articles"].astype(int).tolist(),
            "hovertemplate": _text(name).replace("%", "%%") + " %{y:.3f}, %{customdata} articles<extra></extra>"}


def chosen_shape(chosen: dict | None, freq: str = "D") -> dict:
    """The chosen day or range (a click, a selection), shaded across the days it covers
    (a day is drawn ±12 h around midnight; a week or month across itself). Hidden when
    nothing is chosen: it keeps its place as the first shape, so a click patches only it."""
    shape = {"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "layer": "below",
             "name": "chosen", "fillcolor": "rgba(241,196,15,0.25)",
             "line": {"color": "rgba(183,149,11,0.9)", "width": 1}}
    if not chosen:
        return {**shape, "visible": False, "x0": "2000-01-01", "x1": "2000-01-01"}
    start, end = pd.Timestamp(chosen["start"]), pd.Timestamp(chosen["end"])
    if freq == "D":
        x0, x1 = start - pd.Timedelta(hours=12), end + pd.Timedelta(hours=12)
    else:
        x0, x1 = start, end + pd.Timedelta(days=1)
    return {**shape, "visible": True, "x0": x0.strftime("%Y-%m-%d %H:%M"), "x1": x1.strftime("%Y-%m-%d %H:%M")}


def _x_range(table: pd.DataFrame, freq: str) -> dict:
    """The x axis spans exactly the view's periods (a day is drawn ±12 h around midnight,
    a week or month across itself). plotly's autorange padded it by days, and the range
    buttons count back from its end: "1M" on a view ending 30 April showed 6 April - 5 May."""
    if not len(table):
        return {}
    dates = pd.to_datetime(table["date"])
    if freq == "D" and (dates.max() - dates.min()).days < SHORT_VIEW_DAYS:
        # a day or a few: a week around them, ticked in days (plotly's own ticks went to
        # hours, 12:00, 15:00…, around a single dot)
        mid = dates.min() + (dates.max() - dates.min()) / 2
        half = pd.Timedelta(days=SHORT_VIEW_DAYS / 2)
        lo, hi = (mid - half).floor("D") - pd.Timedelta(hours=12), (mid + half).floor("D") + pd.Timedelta(hours=12)
        return {"range": [lo.strftime("%Y-%m-%d %H:%M"), hi.strftime("%Y-%m-%d %H:%M")],
                "dtick": 86_400_000, "tickformat": "%b %d\n%Y"}
    if freq == "D":
        lo, hi = dates.min() - pd.Timedelta(hours=12), dates.max() + pd.Timedelta(hours=12)
    else:
        lo, hi = dates.min(), period_start(dates.max(), freq) + pd.offsets.DateOffset(
            weeks=1 if freq == "W" else 0, months=1 if freq == "M" else 0)
    return {"range": [lo.strftime("%Y-%m-%d %H:%M"), hi.strftime("%Y-%m-%d %H:%M")]}


def _max_count(table: pd.DataFrame) -> int:
    return int(table["n_articles"].max()) if len(table) else 0


def count_dtick(max_count: int) -> int:
    """The article-count axis step: the smallest of 1, 2, 5, 10, 20, 50… giving at most
    five intervals up to `max_count` (1 for an empty or near-empty view)."""
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if max_count <= 5 * step:
                return step
        scale *= 10


def _band_trace(table: pd.DataFrame) -> dict:
    """The confidence band as one filled polygon per unbroken run of days with a band
    (two lines with fill="tonexty" would join the runs across empty days)."""
    dates = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d").tolist()
    lo, hi = _num(table["ci_low"]), _num(table["ci_high"])
    ok = ~(table["ci_low"].isna() | table["ci_high"].isna()).to_numpy()
    xs: list = []
    ys: list = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        xs += dates[start:end] + dates[start:end][::-1] + [None]
        ys += hi[start:end] + lo[start:end][::-1] + [None]
    return {"type": "scatter", "mode": "lines", "name": "95% band", "x": xs, "y": ys,
            "fill": "toself", "fillcolor": "rgba(120,120,120,0.22)", "line": {"width": 0},
            "hoverinfo": "skip"}


def _spike_traces(table: pd.DataFrame, spikes: pd.DataFrame, freq: str = "D",
                  normalize: str = "raw") -> list[dict]:
    """A triangle per spike on the value drawn for its period (the day's point in the daily
    view; the week's or month's in those views, where the day's own height would stretch
    the y axis far past the period means). The hover names the spike day and gives the
    value drawn, on the chart's scale as the index line's hover does, then that day's
    tension as secondary (labelled raw when the chart is not): a z-score or base-100
    chart showed the raw value alone, which read as the index."""
    dates = pd.to_datetime(table["date"])
    value = pd.Series(_num(table["tension"]), index=dates)
    hover = "%{customdata[1]}<br>robust z %{customdata[0]}<br>" + {
        "D": "index", "W": "week's index", "M": "month's index"}[freq] + " %{y:.3f}" + SCALE_NAMES[normalize]
    if freq != "D" or normalize != "raw":  # else the same number again
        hover += "<br>that day's " + ("tension" if normalize == "raw" else "raw tension") + " %{customdata[2]:+.3f}"
    out = []
    for kind, color, symbol in (("hostility", RED, "triangle-up"), ("conciliation", BLUE, "triangle-down")):
        sp = spikes[spikes["kind"] == kind]
        starts = pd.Series([period_start(p, freq) for p in sp["peak"]], index=sp.index, dtype="datetime64[ns]")
        keep = starts.map(value).notna()  # in the view's periods, and drawn there
        sp, starts = sp[keep], starts[keep]
        if not len(sp):
            continue
        peaks = pd.to_datetime(sp["peak"]).dt.strftime("%Y-%m-%d").tolist()
        out.append({"type": "scatter", "mode": "markers", "name": f"{kind} spike",
                    "x": starts.dt.strftime("%Y-%m-%d").tolist(), **_period(freq),
                    "y": starts.map(value).tolist(),
                    "customdata": [[round(m, 1), day, t, "spike"] for m, day, t in
                                   zip(sp["magnitude"], peaks, _num(sp["peak_tension"]), strict=True)],
                    "marker": {"symbol": symbol, "size": 12, "color": color,
                               "line": {"color": "white", "width": 1}},
                    "hovertemplate": f"{kind} spike {hover}<extra></extra>"})
    return out


def _view_span(table: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day drawn (None for an empty table): where labels must stay visible."""
    if not len(table):
        return None
    dates = pd.to_datetime(table["date"])
    return dates.min(), dates.max()


# Label placement: labels are drawn at font size 10 (about 6 px a character) on a plot at
# least about 900 px wide; estimating a label's extent in days from these keeps neighbours
# apart at any window width from there up (wider plots only add room).
LABEL_CHAR_PX, LABEL_PLOT_PX, LABEL_ROWS, LABEL_ROW_STEP = 6.0, 900.0, 6, 0.05


def label_rows(starts: list[pd.Timestamp], widths: list[int],
               span: tuple[pd.Timestamp, pd.Timestamp]) -> list[int]:
    """A row for each label (0 = just above the plot, 1, 2… stepping down into it), so
    that labels whose estimated extents overlap never share a row. Greedy, in x order;
    past LABEL_ROWS rows it reuses the row that frees up first."""
    days_per_px = max((span[1] - span[0]).days + 1, 1) / LABEL_PLOT_PX
    free_from: list[pd.Timestamp] = []  # per row: where its last label ends
    rows = [0] * len(starts)
    for i in sorted(range(len(starts)), key=lambda i: starts[i]):
        end = starts[i] + pd.Timedelta(days=(widths[i] * LABEL_CHAR_PX + 12) * days_per_px)
        row = next((r for r, f in enumerate(free_from) if f <= starts[i]), None)
        if row is None and len(free_from) < LABEL_ROWS:
            row = len(free_from)
            free_from.append(end)
        elif row is None:
            row = min(range(LABEL_ROWS), key=lambda r: free_from[r])
        free_from[row] = max(free_from[row], end)
        rows[i] = row
    return rows


def _annotation_shapes(annotations: list[dict],
                       span: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> tuple[list[dict], list[dict]]:
    """Shapes for the annotated days, and their labels staggered in rows (`label_rows`) so
    close ones do not collide. A label sits at its annotation's start, or at the view's
    first day when it starts earlier (plotly hides labels anchored off the axis)."""
    shapes, xs = [], []
    # An annotation drawn is clipped to the supported days: one stored before the date policy
    # (ending in 9999, say) must not break the chart of every user (date arithmetic overflows).
    annotations = [{**a, "start": max(a["start"], FIRST), "end": min(a["end"], LAST)} for a in annotations
                   if a["start"] <= LAST and a["end"] >= FIRST]
    for a in annotations:
        if a["start"] == a["end"]:
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": a["start"], "x1": a["start"],
                           "y0": 0, "y1": 1, "line": {"color": "#7d3c98", "width": 1.5, "dash": "dot"}})
        else:
            end = (pd.Timestamp(a["end"]) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": a["start"], "x1": end,
                           "y0": 0, "y1": 1, "fillcolor": "rgba(125,60,152,0.10)", "line": {"width": 0},
                           "layer": "below"})
        x = pd.Timestamp(a["start"])
        xs.append(max(x, span[0]) if span is not None else x)
    titles = [a["title"][:40] for a in annotations]
    if span is None and xs:
        span = (min(xs), max(xs))
    rows = label_rows(xs, [len(t) for t in titles], span) if xs else []
    notes = [{"x": x.strftime("%Y-%m-%d"), "xref": "x", "y": round(1 - row * LABEL_ROW_STEP, 3), "yref": "paper",
              "yanchor": "bottom", "text": _text(title), "showarrow": False,
              "font": {"size": 10, "color": "#7d3c98"}, "bgcolor": "rgba(255,255,255,0.85)",
              "hovertext": f"{_text(a['title'])}<br>{_text(a.get('author') or '')}", "xanchor": "left"}
             for a, x, title, row in zip(annotations, xs, titles, rows, strict=True)]
    return shapes, notes


FIRST, LAST = FIRST_DAY.isoformat(), LAST_DAY.isoformat()
EVENT_HOVER_STEPS = 40  # points up each event line: its hover answers along its whole height


def _event_trace(events: pd.DataFrame) -> dict:
    """Each event a vertical line over the plot. The line is drawn through many points, not
    two: plotly hovers on points, and with two the label showed only near the top and bottom
    ends, while the day's dot beside the line won the hover everywhere else."""
    xs, ys, text, custom = [], [], [], []  # custom: the event's day, tagged (a click takes it)
    heights = [round(k / EVENT_HOVER_STEPS, 3) for k in range(EVENT_HOVER_STEPS + 1)]
    for e in events.itertuples():
        d = pd.Timestamp(e.start).strftime("%Y-%m-%d")
        label = _text(f"{e.label} [{e.category}]")
        xs += [d] * len(heights) + [None]
        ys += heights + [None]
        text += [label] * len(heights) + [None]
        custom += [[d, "event"]] * len(heights) + [None]
    return {"type": "scatter", "mode": "lines", "name": "reference events", "x": xs, "y": ys,
            "yaxis": "y3", "text": text, "customdata": custom,
            "line": {"color": "rgba(230,126,34,0.55)", "width": 1},
            "hoverlabel": {"bgcolor": "#fdebd0"},
            "hovertemplate": "%{x|%Y-%m-%d}<br>%{text}<extra></extra>"}


def _event_labels(events: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp] | None) -> list[dict]:
    """Short labels for the reference events of a zoomed view (at most EVENT_LABEL_DAYS days
    or EVENT_LABEL_MAX events), staggered upwards from the bottom of the index so that
    neighbours do not collide and the annotations' labels at the top stay clear."""
    if span is None or ((span[1] - span[0]).days + 1 > EVENT_LABEL_DAYS and len(events) > EVENT_LABEL_MAX):
        return []
    if len(events) > EVENT_LABEL_MAX * 3:
        return []
    starts = [max(pd.Timestamp(e.start), span[0]) for e in events.itertuples()]
    titles = [str(e.label) if len(str(e.label)) <= 32 else str(e.label)[:31] + "…" for e in events.itertuples()]
    rows = label_rows(starts, [len(t) for t in titles], span)
    return [{"x": x.strftime("%Y-%m-%d"), "xref": "x", "yref": "paper",
             "y": round(COUNTS_STRIP + 0.01 + row * LABEL_ROW_STEP, 3), "yanchor": "bottom",
             "xanchor": "left", "text": _text(title), "showarrow": False,
             "font": {"size": 9, "color": EVENT_COLOR}, "bgcolor": "rgba(255,255,255,0.8)",
             "hovertext": _text(f"{e.label} [{e.category}]")}
            for e, x, title, row in zip(events.itertuples(), starts, titles, rows, strict=True)]
