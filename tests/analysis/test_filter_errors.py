"""Keyword filters with bad syntax (issue 21, item 9): `missile & (launch` used to be read as
the literal phrase "(launch" and matched nothing, silently. A filter that cannot be read is now
a FilterError naming the problem and its position, shown by the page, the HTTP API (400) and
the command line (exit 2); brackets group, and every expression the README documents works.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from dash import no_update
from hypothesis import given, settings
from hypothesis import strategies as st

from tension.cli import main
from tension.core.filters import MAX_DEPTH, FilterError, filter_mask, parse_filter
from tension.dashboard.app import create_app
from tension.dashboard.panels import chart
from tension.dashboard.panels import controls as ctl
from tension.dashboard.service import Service
from tension.dashboard.view import parse_query
from tension.pipeline.ingest import ingest
from tension.store.engine import Store

ROOT = Path(__file__).resolve().parents[2]

TEXTS = pd.Series([
    "North Korea announces a missile launch",    # 0
    "Missile test condemned by Japan",            # 1
    "Seoul and Tokyo hold talks",                 # 2
    "South Korea proposes a satellite launch",    # 3
    "Kim Jong Un's visit to a textile mill",      # 4
    "Fire & fury, said the president (KCNA)",     # 5
    "He said: not guilty",                        # 6
    None,                                         # 7
])


def hits(expr: str, texts: pd.Series = TEXTS) -> list[int]:
    mask = filter_mask(texts, expr)
    assert mask.dtype == bool and mask.index.equals(texts.index)
    return [int(i) for i in texts.index[mask]]


# --------------------------------------------------------------------------- what is wrong, where

@pytest.mark.parametrize("expr, message", [
    ("missile & (launch", r"'\(' at position 11 is never closed"),        # the issue's example
    ("missile & (launch | test", r"'\(' at position 11 is never closed"),
    ("((missile) & launch", r"'\(' at position 1 is never closed"),
    ("(", r"'\(' at position 1 is never closed"),
    ("missile & launch)", r"'\)' at position 17 has no matching '\('"),
    ("(missile))", r"'\)' at position 10 has no matching '\('"),
    (")missile", r"'\)' at position 1 has no matching '\('"),
    ("missile &", r"empty term after '&' at position 9, before the end of the filter"),
    ("missile |", r"empty term after '\|' at position 9, before the end of the filter"),
    ("| launch", r"empty term before '\|' at position 1"),
    ("& launch", r"empty term before '&' at position 1"),
    ("missile & | launch", r"empty term after '&' at position 9, before '\|' at position 11"),
    ("missile & (launch |)", r"empty term after '\|' at position 19, before '\)' at position 20"),
    ("missile & -", r"empty term after '-' at position 11"),
    ("NOT (", r"'\(' at position 5 is never closed"),
    ("()", r"empty brackets '\(\)' at position 1"),
    ("missile & ( )", r"empty brackets '\(\)' at position 11"),
    ("missile (launch)", r"'&' or '\|' missing before '\(' at position 9"),
    ("(missile) launch", r"'&' or '\|' missing before 'launch' at position 11"),
    ('("missile" launch)', r"'&' or '\|' missing before 'launch' at position 12"),
    ('"South Korea', r"the quote at position 1 is never closed"),
    ('missile & ""', r"empty term, the quotes at position 11 hold nothing"),
    ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), rf"more than {MAX_DEPTH} deep"),
])
def test_bad_syntax_names_the_problem_and_its_position(expr: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(expr)
    with pytest.raises(FilterError, match=message):
        filter_mask(TEXTS, expr)  # never a mask of nothing


def test_positions_count_the_characters_as_typed() -> None:
    """Leading spaces count: position 1 is the first character in the box."""
    with pytest.raises(FilterError, match="position 13 is never closed"):
        parse_filter("  missile & (launch")


# --------------------------------------------------------------------------- what still works

def readme_filter_examples() -> list[str]:
    """The expressions the README's "Filter expressions" paragraph shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = text[text.index("Filter expressions:"):].split("\n\n", 1)[0]
    return [e for e in re.findall(r"`([^`]+)`", paragraph) if e not in ("&", "|")]  # operators named


def test_every_expression_the_readme_documents_parses() -> None:
    examples = readme_filter_examples()
    assert {"Seoul|South Korea", "missile & launch", "-test", "NOT test",
            "missile & (launch | test)"} <= set(examples)
    for expr in examples:
        if expr == "missile & (launch":  # the README's example of a filter that is refused
            with pytest.raises(FilterError, match="never closed"):
                parse_filter(expr)
        else:
            assert parse_filter(expr) is not None, expr


@pytest.mark.parametrize("expr, expected", [
    ("Seoul|South Korea", [2, 3]),
    ("missile & launch", [0]),
    ("-missile", [2, 3, 4, 5, 6, 7]),
    ("NOT missile", [2, 3, 4, 5, 6, 7]),
    ("missile & !launch", [1]),
    ("missile & (launch | test)", [0, 1]),
    ("launch & (Korea & -South)", [0]),
    ("(Seoul | Tokyo) & talks", [2]),
    ("-(missile | launch)", [2, 4, 5, 6, 7]),      # De Morgan: neither
    ("NOT (missile & launch)", [1, 2, 3, 4, 5, 6, 7]),
    ("NOT(missile & launch)", [1, 2, 3, 4, 5, 6, 7]),
    ("missile & launch | talks", [0, 2]),            # '&' binds before '|'
    ("talks | missile & launch", [0, 2]),
    ("(((missile)))", [0, 1]),
    ('"fire & fury"', [5]),                           # quoted: '&' is a character
    ('"(KCNA)"', [5]),                                # quoted: brackets are characters
    ('"not guilty"', [6]),                            # quoted: a phrase, not a negation
    ("'Kim Jong Un's visit'", [4]),                  # an apostrophe inside single quotes
    ("Kim Jong Un's", [4]),
    ("“South Korea”", [3]),
    ("-'South Korea' & launch", [0]),
    ("NOT", [6]),                                     # the word itself: nothing follows it
    ("", list(range(8))),
])
def test_valid_expressions(expr: str, expected: list[int]) -> None:
    assert hits(expr) == expected


WORDS = ["alpha", "beta", "gamma", "delta"]


def trees() -> st.SearchStrategy:
    leaves = st.sampled_from(WORDS)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.just("&"), inner, inner),
            st.tuples(st.just("|"), inner, inner),
            st.tuples(st.sampled_from(["-", "!", "NOT "]), inner)),
        max_leaves=6)


def render(tree: object, spaces: str) -> str:
    if isinstance(tree, str):
        return tree
    if len(tree) == 2:
        return f"{tree[0]}({render(tree[1], spaces)})"
    op, a, b = tree
    return f"({render(a, spaces)}{spaces}{op}{spaces}{render(b, spaces)})"


def truth(tree: object, words: set[str]) -> bool:
    if isinstance(tree, str):
        return tree in words
    if len(tree) == 2:
        return not truth(tree[1], words)
    op, a, b = tree
    return truth(a, words) and truth(b, words) if op == "&" else truth(a, words) or truth(b, words)


@settings(max_examples=150, deadline=None)
@given(tree=trees(), spaces=st.sampled_from(["", " ", "  "]))
def test_bracketed_expressions_mean_what_they_say(tree: object, spaces: str) -> None:
    """Any expression of brackets, '&', '|' and negations selects exactly the texts for
    which it is true (every combination of the four words is one text)."""
    combos = [{w for i, w in enumerate(WORDS) if n >> i & 1} for n in range(2 ** len(WORDS))]
    texts = pd.Series([" ".join(sorted(c)) for c in combos])
    expected = [i for i, c in enumerate(combos) if truth(tree, c)]
    assert hits(render(tree, spaces), texts) == expected


# --------------------------------------------------------------------------- page, API, CLI

ISSUE_EXAMPLE = "missile & (launch"
MESSAGE = "'(' at position 11 is never closed"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    path = tmp_path / "articles.csv"
    path.write_text("date,title,text\n"
                    "2018-01-03,Missile launch,North Korea launches a missile.\n"
                    "2018-01-04,Talks,Seoul and Pyongyang hold talks.\n", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'tension.db'}")
    assert ingest(store, [str(path)]).added == 2
    yield store
    store.dispose()


def test_the_page_says_what_is_wrong(store: Store) -> None:
    view = parse_query("")
    view["filter"] = ISSUE_EXAMPLE  # typed in the keyword box
    fig, status, spikes = chart.render_view(Service(store), view)
    text = " ".join(getattr(s, "children", s) for s in status)
    assert MESSAGE in text and spikes == []
    assert not any(len(t.get("x") or []) for t in fig["data"])  # no chart of nothing
    # the box keeps what was typed, so it can be corrected
    values = [None, None, [], [], "D", 7, "raw", ISSUE_EXAMPLE, None]
    controls, _ = ctl.sync_view("filter", "", values)
    assert controls[7] is no_update


def test_the_api_answers_400_with_the_message(store: Store, tmp_path: Path) -> None:
    app = create_app(store.url, seed=False, upload_dir=tmp_path / "up")
    client = app.server.test_client()
    try:
        for path in ("/api/index.csv", "/api/index.json", "/api/spikes"):
            r = client.get(path, query_string={"filter": ISSUE_EXAMPLE})
            assert r.status_code == 400, path
            assert MESSAGE in r.get_json()["error"], path
        r = client.get("/api/index.json", query_string={"filter": "talks | (missile & launch)"})
        assert r.status_code == 200
        assert sum(row["n_articles"] for row in r.get_json()) == 2
    finally:
        app.server.extensions["tension"]["service"].store.dispose()


@pytest.mark.parametrize("command", [["export", "--out", "-"], ["spikes"], ["explain", "2018-01-03"]])
def test_the_command_line_exits_with_the_message(store: Store, command: list[str]) -> None:
    res = CliRunner().invoke(main, [*command, "--filter", ISSUE_EXAMPLE, "--db", store.url])
    assert res.exit_code == 2, res.output
    assert "--filter" in res.output and MESSAGE in res.output
