"""Labelling a sentence in the evidence panel, in a real headless Chromium (dash.testing's
`dash_duo`, run with `--headless`), as test_browser.py drives the page.

The store is test_callbacks.py's small made-up corpus (60 days; one day of nothing but
threats), ingested for the test: no real corpus needed. On failure conftest.py saves a
screenshot to tests/artifacts/<test name>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from test_browser import WAIT, click_at, start, store_of, type_into, wait_until
from test_callbacks import HOSTILE, SPIKE_DAY, corpus_store

from tension.store.labels import list_labels

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A store of the made-up corpus (see test_callbacks.py)."""
    return corpus_store(tmp_path)


def test_a_sentence_labelled_in_the_evidence_is_stored_and_listed(dash_duo, db_url: str,
                                                                  tmp_path: Path) -> None:
    app = start(dash_duo, db_url, tmp_path)
    dash_duo.wait_for_contains_text("#labels-summary", "No labels yet", timeout=WAIT)
    type_into(dash_duo, "#label-author", "ana")
    click_at(dash_duo, f"{SPIKE_DAY} 06:00")
    dash_duo.wait_for_contains_text("#evidence", f"{SPIKE_DAY}: {len(HOSTILE)} articles", timeout=WAIT)
    # the first (strongest) article: open it, and label its sentence conciliatory (the model
    # says hostile: a label an analyst would set to correct it)
    article = dash_duo.find_element("#evidence details.article")
    article.find_element(By.TAG_NAME, "summary").click()
    sentence = article.find_element(By.CSS_SELECTOR, "ul.sentences li .sentence").text
    assert sentence in {t.format(n=k) for k, t in enumerate(HOSTILE)}
    button = article.find_element(By.CSS_SELECTOR, "ul.sentences li .label-buttons button[title^='label this "
                                                   "sentence conciliatory']")
    assert button.text == "C"
    button.click()
    dash_duo.wait_for_contains_text("#label-message", f"Labelled conciliatory by ana: “{sentence}”", timeout=WAIT)
    # listed in the labels summary, with its author; and in the store
    dash_duo.wait_for_contains_text("#labels-summary", "1 label: conciliatory 1", timeout=WAIT)
    listed = dash_duo.find_element("#labels-summary ul.labels li").text
    assert listed.startswith(f"conciliatory {sentence}") and "· ana ·" in listed, listed
    (stored,) = list_labels(store_of(app))
    assert (stored["text"], stored["label"], stored["author"]) == (sentence, "conciliatory", "ana")
    # the evidence is redrawn with that sentence's label marked (on its button, which sits in
    # the article: drawn again, the article is closed, so its text is read from the DOM)
    chosen = wait_until(lambda: dash_duo.find_elements(
        "#evidence details.article ul.sentences .label-buttons button.chosen"), message="the chosen label")
    assert [b.get_attribute("textContent") for b in chosen] == ["C"]
    assert "labelled conciliatory by ana" in chosen[0].get_attribute("title")
    # and, labelled, it is no longer offered under "Review these first"
    review = [e.get_attribute("textContent") for e in dash_duo.find_elements("#evidence ul.review li .sentence")]
    assert review and sentence not in review
