"""The analysts' side of the learned scorer, as plain functions (no browser) on a real SQLite
store: labels set from the evidence panel's buttons, the labels listed, "review these first",
the training job's messages, and a model trained, offered and put to use (the real trainer).

The store is test_callbacks.py's: ~60 days of made-up headlines, one day of nothing but
threats (SPIKE_DAY), one headline carrying a <script> tag (SCRIPT_DAY); built once per
module and copied for every test (its `service` fixture).
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import pytest
import test_callbacks
from _dash import text_of, walk
from dash import html
from test_callbacks import (
    HOSTILE,
    SCRIPT_DAY,
    SCRIPT_TITLE,
    SPIKE_DAY,
    corpus_rows,
    view,
)

from indicators.lexicon import default_lexicon_bytes
from indicators.scorers import load_model
from tension.core.hashing import content_hash
from tension.dashboard.panels import evidence, learning
from tension.dashboard.service import Service
from tension.dashboard.training import Training
from tension.dashboard.view import to_params
from tension.pipeline.ingest import ingest
from tension.reports.review import least_sure
from tension.store.labels import count_labels, list_labels, set_label
from tension.store.scoring import list_models, store_model, store_scorer, use_lexicon

# test_callbacks.py's fixtures: its store, built once per module, and a copy of it for each test
template_db = test_callbacks.template_db
service = test_callbacks.service

XSS_AUTHOR = '<img src=x onerror="window.__pwned=2">'


def label_buttons(out: list) -> list[html.Button]:
    return [c for c in walk(out) if isinstance(c, html.Button) and isinstance(c.id, dict)
            and c.id.get("type") == "label"]


def panel(service: Service, start: str, end: str | None = None) -> tuple[list, dict[str, str]]:
    """The evidence panel of a day (or range) and the sentences its label buttons stand for."""
    texts: dict[str, str] = {}
    out = evidence.evidence_panel(service, view(), {"start": start, "end": end or start}, texts)
    return out, texts


def button_for(out: list, texts: dict[str, str], sentence: str, label: str) -> html.Button:
    """The first button of the panel that labels `sentence` `label`."""
    return next(b for b in label_buttons(out)
                if texts[b.id["key"]] == sentence and b.id["label"] == label)


def assert_inert(components: object) -> None:
    """Nothing in a callback's answer renders its text as HTML."""
    for c in walk(components):
        assert type(c).__name__ not in ("Markdown", "Iframe", "Script"), c
        assert not getattr(c, "dangerously_allow_html", False), c


# =========================================================================== setting labels
def test_a_label_button_stores_its_sentence_with_the_author(service: Service) -> None:
    out, texts = panel(service, SPIKE_DAY)
    buttons = label_buttons(out)
    # three buttons (H / N / C) for every sentence shown, each standing for a sentence in `texts`
    assert {b.id["key"] for b in buttons} == set(texts)
    assert set(texts.values()) == {t.format(n=k) for k, t in enumerate(HOSTILE)}
    assert sorted(b.children for b in buttons[:3]) == ["C", "H", "N"]
    assert not [b for b in buttons if "chosen" in b.className]  # nothing labelled yet
    sentence = HOSTILE[1].format(n=1)
    trigger = button_for(out, texts, sentence, "hostile").id
    msg = learning.set_sentence_label(service, texts, trigger, "ana")
    assert msg == f"Labelled hostile by ana: “{sentence}”"
    (stored,) = list_labels(service.store)
    assert (stored["text"], stored["label"], stored["author"]) == (sentence, "hostile", "ana")
    assert service.labels_for([sentence]) == {sentence: {"text_hash": content_hash("", sentence),
                                                         "label": "hostile", "author": "ana"}}
    # drawn again, the panel marks that sentence's hostile button, and only that one
    out, texts = panel(service, SPIKE_DAY)
    chosen = [b for b in label_buttons(out) if "chosen" in b.className]
    assert chosen and {(texts[b.id["key"]], b.id["label"]) for b in chosen} == {(sentence, "hostile")}
    assert all(b.title == "label this sentence hostile (labelled hostile by ana)" for b in chosen)


def test_labelling_a_sentence_again_replaces_its_label(service: Service) -> None:
    out, texts = panel(service, SPIKE_DAY)
    sentence = HOSTILE[0].format(n=0)
    learning.set_sentence_label(service, texts, button_for(out, texts, sentence, "hostile").id, "ana")
    first = list_labels(service.store)[0]
    msg = learning.set_sentence_label(service, texts, button_for(out, texts, sentence, "conciliatory").id, "bo")
    assert msg == f"Labelled conciliatory by bo: “{sentence}”"
    (again,) = list_labels(service.store)
    assert (again["id"], again["text"], again["label"], again["author"]) == (
        first["id"], sentence, "conciliatory", "bo")
    assert again["created_at"] == first["created_at"] and again["updated_at"] >= first["updated_at"]
    assert count_labels(service.store) == {"conciliatory": 1}
    # without a name the label is anonymous, and the message names nobody
    msg = learning.set_sentence_label(service, texts, button_for(out, texts, sentence, "neutral").id, None)
    assert msg == f"Labelled neutral: “{sentence}”"
    (again,) = list_labels(service.store)
    assert (again["label"], again["author"]) == ("neutral", "")
    assert "· anonymous ·" in text_of(learning.labels_summary(service))


def test_the_message_says_what_was_stored_not_what_was_typed(service: Service) -> None:
    """The store trims the author (and blanks count as none): the message names who was stored."""
    out, texts = panel(service, SPIKE_DAY)
    sentence = HOSTILE[2].format(n=2)
    trigger = button_for(out, texts, sentence, "hostile").id
    assert learning.set_sentence_label(service, texts, trigger, "  ana  ") == (
        f"Labelled hostile by ana: “{sentence}”")
    assert list_labels(service.store)[0]["author"] == "ana"
    assert learning.set_sentence_label(service, texts, trigger, "   ") == f"Labelled hostile: “{sentence}”"
    assert list_labels(service.store)[0]["author"] == ""


def test_a_long_sentence_is_cut_in_the_message_but_stored_whole(service: Service) -> None:
    long = "The army threatens war " + "and more " * 20 + "today."
    msg = learning.set_sentence_label(service, {"k": long}, {"type": "label", "label": "hostile", "key": "k"}, "")
    assert msg == f"Labelled hostile: “{long[:77]}…”"
    assert list_labels(service.store)[0]["text"] == long


@pytest.mark.parametrize("texts,trigger,author,expected", [
    ({"k": "Army threatens war"}, {"type": "label", "label": "angry", "key": "k"}, "ana",
     "Not labelled: 'label' must be one of hostile, neutral, conciliatory, not 'angry'"),
    ({"k": "Army threatens war"}, {"type": "label", "label": "<b>hostile</b>", "key": "k"}, "ana",
     "Not labelled: 'label' must be one of hostile, neutral, conciliatory, not '<b>hostile</b>'"),
    ({"k": "   "}, {"type": "label", "label": "hostile", "key": "k"}, "ana",
     "Not labelled: 'text' must be a sentence, not empty"),
    ({"k": "Army threatens war"}, {"type": "label", "label": "hostile", "key": "k"}, "a" * 101,
     "Not labelled: 'author' is over 100 characters"),
    ({"k": "Army threatens war"}, {"type": "label", "label": "hostile", "key": "gone"}, "ana",
     "That sentence is no longer shown; pick the day again."),
    (None, {"type": "label", "label": "hostile", "key": "k"}, "ana",
     "That sentence is no longer shown; pick the day again."),
    ({}, {"type": "label", "label": "hostile", "key": "k"}, "ana",
     "That sentence is no longer shown; pick the day again."),
    ({"k": "Army threatens war"}, None, "ana", "That sentence is no longer shown; pick the day again."),
], ids=["unknown-label", "html-label", "blank-sentence", "long-author", "sentence-gone", "no-texts",
        "empty-texts", "no-trigger"])
def test_a_bad_label_or_a_missing_sentence_says_why_and_stores_nothing(
        service: Service, texts: dict | None, trigger: dict | None, author: str, expected: str) -> None:
    before = service.store.revision("labels")
    assert learning.set_sentence_label(service, texts, trigger, author) == expected
    assert list_labels(service.store) == [] and count_labels(service.store) == {}
    assert service.store.revision("labels") == before  # not even an empty write
    assert text_of(learning.labels_summary(service)).startswith("No labels yet.")


def test_user_text_in_labels_stays_text(service: Service) -> None:
    """A headline carrying <script> and an author name that is an HTML payload: what the
    callbacks return holds them as plain strings (React escapes them), never as markup."""
    out, texts = panel(service, SCRIPT_DAY)
    (sentence,) = [t for t in texts.values() if "<script>" in t]
    assert sentence in SCRIPT_TITLE
    msg = learning.set_sentence_label(service, texts, button_for(out, texts, sentence, "hostile").id,
                                      XSS_AUTHOR)
    assert isinstance(msg, str) and msg == f"Labelled hostile by {XSS_AUTHOR}: “{sentence}”"
    (stored,) = list_labels(service.store)
    assert (stored["text"], stored["author"]) == (sentence, XSS_AUTHOR)  # kept as typed, not escaped
    summary = learning.labels_summary(service)
    assert_inert(summary)
    strings = [c for c in walk(summary) if isinstance(c, str)]
    assert sentence in strings  # the sentence is a text node of its own
    assert any(XSS_AUTHOR in s for s in strings)
    assert not [c for c in walk(summary) if type(c).__name__ in ("Img", "A")]
    # the panel, drawn again, shows the label on the button's tooltip: a plain attribute
    out, texts = panel(service, SCRIPT_DAY)
    assert_inert(out)
    (chosen,) = [b for b in label_buttons(out) if "chosen" in b.className]
    assert chosen.title == f"label this sentence hostile (labelled hostile by {XSS_AUTHOR})"


def test_the_labels_summary_counts_and_lists_the_latest_labels(service: Service) -> None:
    assert text_of(learning.labels_summary(service)).startswith("No labels yet.")
    rows = [(HOSTILE[0].format(n=0), "hostile", "ana"), ("Farmers harvest rice", "neutral", ""),
            ("Leaders agree to resume talks", "conciliatory", "bo"), ("x " * 100, "hostile", "cy")]
    for text, label, author in rows:
        set_label(service.store, text, label, author)
    head, listing = learning.labels_summary(service)
    assert text_of(head) == "4 labels: conciliatory 1, hostile 2, neutral 1"
    items = [text_of(li) for li in listing.children]
    assert len(items) == 4
    today = list_labels(service.store)[0]["updated_at"][:10]
    expected = [f"{label} {text.strip()[:140]} · {author or 'anonymous'} · {today}"
                for text, label, author in reversed(rows)]  # the latest first
    assert items == expected
    # a long sentence is cut on the page (the whole of it is in the store)
    assert len(listing.children[0].children[1]) == 140
    # only the latest RECENT are listed; the count covers them all
    for k in range(learning.RECENT + 3):
        set_label(service.store, f"Officials met in town {k}", "neutral", "dee")
    head, listing = learning.labels_summary(service)
    assert text_of(head) == f"{4 + learning.RECENT + 3} labels: conciliatory 1, hostile 2, neutral {1 + learning.RECENT + 3}"
    items = [text_of(li) for li in listing.children]
    assert len(items) == learning.RECENT
    assert items[0].startswith(f"neutral Officials met in town {learning.RECENT + 2} · dee")


# =========================================================================== review these first
REVIEW_DAY = "2020-03-05"  # after the template's 60 days
REVIEW_BODY = ("The army threatens nuclear war and merciless retaliation. The delegation toured a "
               "textile mill. Officials discussed the situation on the peninsula. The talks collapsed "
               "after the drills. Both sides agreed to resume dialogue but warned of consequences. "
               "The minister paid lip-service to dialogue.")
REVIEW_SENTENCES = ["Delegation visits the capital", *(s.strip() + "." for s in REVIEW_BODY.split(".")[:-1]),
                    "Leaders sign peace agreement", "Leaders sign peace agreement and welcome cooperation."]


@pytest.fixture
def review_day(service: Service, tmp_path: Path) -> Service:
    """The store with a day of two articles whose sentences the model is more and less sure of."""
    path = tmp_path / "review.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["date", "source", "title", "text", "url"])
        w.writerow([REVIEW_DAY, "KCNA", "Delegation visits the capital", REVIEW_BODY, "http://example.org/r1"])
        w.writerow([REVIEW_DAY, "KCNA", "Leaders sign peace agreement",
                    "Leaders sign peace agreement and welcome cooperation.", "http://example.org/r2"])
    assert ingest(service.store, [str(path)]).added == 2
    return service


def review(service: Service, limit: int = 10) -> list[dict]:
    sel, _ = to_params(view())
    return least_sure(service.store, sel, dt.date.fromisoformat(REVIEW_DAY), limit=limit)


def test_review_lists_the_least_sure_sentences_first(review_day: Service) -> None:
    service = review_day
    rows = review(service)
    assert sorted(r["text"] for r in rows) == sorted(REVIEW_SENTENCES)  # every sentence, once
    assert all(r["date"] == REVIEW_DAY for r in rows)
    # the model's own probabilities, scored here apart from least_sure: the order is theirs
    scored = {s.text: s for s in store_scorer(service.store).score_sentences(REVIEW_SENTENCES)}
    sure = {t: max(s.hostility, s.neutral, s.conciliation) for t, s in scored.items()}
    assert [r["text"] for r in rows] == sorted(REVIEW_SENTENCES, key=lambda t: (round(sure[t], 3)))
    confidences = [r["confidence"] for r in rows]
    assert confidences == sorted(confidences) and confidences[0] < confidences[-1]
    for r in rows:
        assert r["confidence"] == pytest.approx(max(r["hostile"], r["neutral"], r["conciliatory"]), abs=1e-3)
        assert r["predicted"] == scored[r["text"]].label
        assert r["confidence"] == pytest.approx(r[r["predicted"]], abs=1e-3)
    # an open threat is what the model is surest of: it comes last
    assert rows[-1]["text"] == "The army threatens nuclear war and merciless retaliation."
    # the limit keeps the least sure
    assert review(service, limit=3) == rows[:3]
    # a labelled sentence is not offered again; the next least sure takes its place
    set_label(service.store, rows[0]["text"], "neutral", "ana")
    assert review(service, limit=3) == rows[1:4]
    # a day without articles has nothing to review
    sel, _ = to_params(view())
    assert least_sure(service.store, sel, dt.date(2020, 1, 11)) == []


def test_the_panel_shows_the_review_list_in_that_order_with_label_buttons(review_day: Service) -> None:
    service = review_day
    rows = review(service)
    out, texts = panel(service, REVIEW_DAY)
    h3 = [text_of(c) for c in out if isinstance(c, html.H3)]
    assert h3[-1] == "Review these first"
    (listing,) = [c for c in out if isinstance(c, html.Ul) and c.className == "review"]
    items = listing.children
    assert [li.children[0].children for li in items] == [r["text"] for r in rows]
    first = rows[0]
    assert text_of(items[0].children[1]) == (
        f" model: {first['predicted']} ({first['confidence']:.0%}) · {REVIEW_DAY}")
    # each item's buttons label that item's sentence
    for li, r in zip(items, rows, strict=True):
        keys = {b.id["key"] for b in label_buttons(li)}
        assert len(keys) == 1 and texts[keys.pop()] == r["text"]
    # a sentence shown in an article and in the list has buttons in both: every id is unique
    # (Dash refuses a page with two equal ids)
    buttons = label_buttons(out)
    ids = [tuple(sorted(b.id.items())) for b in buttons]
    assert len(ids) == len(set(ids))
    per_key = Counter(b.id["key"] for b in buttons)
    assert max(per_key.values()) == 6  # twice three buttons
    # labelled from the list, it leaves the list
    msg = learning.set_sentence_label(service, texts, button_for(items[0], texts, first["text"], "neutral").id, "ana")
    assert msg.startswith("Labelled neutral by ana")
    out, _ = panel(service, REVIEW_DAY)
    (listing,) = [c for c in out if isinstance(c, html.Ul) and c.className == "review"]
    assert [li.children[0].children for li in listing.children] == [r["text"] for r in rows[1:]]


# =========================================================================== training messages
def test_training_message_while_running() -> None:
    for status in ("queued", "running"):
        message, keep, offer = learning.training_message(
            {"id": "j", "name": "train model", "status": status, "rows": 0, "summary": {}, "error": ""})
        assert isinstance(message[0], html.Progress) and text_of(message) == " train model…"
        assert keep is True and offer is None
    assert learning.training_message(None) == ([], False, None)


def test_training_message_of_a_failed_job() -> None:
    message, keep, offer = learning.training_message(
        {"id": "j", "name": "train model", "status": "failed", "rows": 0, "summary": {},
         "error": "too few labelled sentences to train: neutral 3; the current model stays"})
    (span,) = message
    assert span.className == "error"
    assert text_of(message) == ("train model failed: too few labelled sentences to train: neutral 3; "
                                "the current model stays")
    assert keep is False and offer is None


def test_training_message_of_a_done_job_offers_the_new_model() -> None:
    lines = ["model abc123: 4,869 sentences hostile 1,911, neutral 1,635, conciliatory 1,323",
             "  learned (5-fold CV)      macro-F1 0.823 (hostile 0.881, neutral 0.789, conciliatory 0.799)",
             "  current model e375: cross-validated macro-F1 0.822 when it was trained"]
    message, keep, offer = learning.training_message(
        {"id": "j", "name": "train model", "status": "done", "rows": 0, "error": "",
         "summary": {"version": "abc123", "lines": lines, "cv": {"macro_f1": 0.823}}})
    assert keep is False and offer == "abc123"
    assert isinstance(message[0], html.B) and message[0].children == "New model abc123"
    assert [d.children for d in message[1:]] == lines  # the new figures beside the current model's
    # a rescore's end: what the store scores with now; nothing more to offer
    message, keep, offer = learning.training_message(
        {"id": "k", "name": "rescore", "status": "done", "rows": 0, "error": "",
         "summary": {"rescore": {"stale": 190, "scored": 190, "pruned": 0, "version": "0123456789abcdef"}}})
    assert text_of(message) == "The store now scores with model 01234567…: 190 texts rescored."
    assert keep is False and offer is None


# =========================================================================== training jobs
def wait_for(training: Training, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (job := training.get(job_id))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout} s"
        time.sleep(0.2)
    return job


def test_a_training_that_cannot_train_fails_and_keeps_the_current_model(service: Service) -> None:
    """A store scoring with its own lexicon cannot train from the shipped base set: the job
    says so and the store keeps its model."""
    use_lexicon(service.store, default_lexicon_bytes() + b"\n# an analyst's edit\n")
    set_label(service.store, HOSTILE[0].format(n=0), "hostile", "ana")
    training = Training(service.store)
    job = wait_for(training, training.start())
    assert job["status"] == "failed" and job["name"] == "train model"
    assert "another" in job["error"] and job["error"].endswith("; the current model stays")
    message, keep, offer = learning.training_message(job)
    assert message[0].className == "error" and text_of(message).startswith("train model failed: ")
    assert keep is False and offer is None
    assert service.store.setting("model") is None and store_model(service.store) is None
    assert list_models(service.store) == []


def test_an_unknown_model_is_not_put_to_use(service: Service) -> None:
    with pytest.raises(ValueError, match="no model nosuchversion in this store"):
        Training(service.store).use("nosuchversion")
    assert service.store.setting("model") is None


@pytest.mark.slow
def test_train_offer_and_use_a_model_end_to_end(service: Service) -> None:
    """Labels set from the panel → a model trained in the background (the real trainer) →
    its figures beside the current model's, not yet in use → "Use this model" → the store's
    model, and every article rescored with it."""
    out, texts = panel(service, SPIKE_DAY)
    labelled = [(HOSTILE[0].format(n=0), "hostile"), (HOSTILE[1].format(n=1), "hostile"),
                (HOSTILE[3].format(n=3), "neutral")]
    for sentence, label in labelled:
        learning.set_sentence_label(service, texts, button_for(out, texts, sentence, label).id, "ana")
    shipped = load_model(None).version
    old_scorer = store_scorer(service.store).version
    training = Training(service.store)
    job_id = training.start()
    running = training.get(job_id)
    assert running["name"] == "train model" and running["status"] in ("queued", "running")
    assert learning.training_message(running)[1] is True  # the page keeps polling

    job = wait_for(training, job_id)
    assert job["status"] == "done", job["error"]
    s = job["summary"]
    version = s["version"]
    assert version != shipped
    # the new model's cross-validated figures, and the current model's beside them
    assert 0.5 < s["cv"]["macro_f1"] <= 1
    assert set(s["cv"]["per_class"]) == {"hostile", "neutral", "conciliatory"}
    assert s["n_labels"] == 3 and s["trained_on"]["analyst"] == 3
    assert s["trained_on"]["hostile"] > 100  # the base set is in
    assert s["current"]["version"] == shipped and 0.5 < s["current"]["cv"]["macro_f1"] <= 1
    assert set(s["on_labels"]) == {"current", "new"} and all(0 <= v <= 3 for v in s["on_labels"].values())
    message, keep, offer = learning.training_message(job)
    text = text_of(message)
    assert keep is False and offer == version
    assert text.startswith(f"New model {version}")
    assert f"macro-F1 {s['cv']['macro_f1']:.3f}" in text and "learned (5-fold CV)" in text
    assert f"current model {shipped}: cross-validated macro-F1 {s['current']['cv']['macro_f1']:.3f}" in text
    assert f"on the 3 analyst labels: current model right on {s['on_labels']['current']} of 3" in text
    # kept in the store, but not in use: the store still scores with the shipped model
    assert [(m["version"], m["in_use"], m["n_labels"]) for m in list_models(service.store)] == [
        (version, False, 3)]
    assert service.store.setting("model") is None and store_model(service.store) is None
    assert store_scorer(service.store).version == old_scorer

    # "Use this model": the store's model at once, and a rescore job started
    rescore_id = training.use(version)
    assert rescore_id != job_id and training.get(rescore_id)["name"] == "rescore"
    assert service.store.setting("model") == version
    assert load_model(store_model(service.store)).version == version
    new_scorer = store_scorer(service.store).version
    assert new_scorer != old_scorer
    done = wait_for(training, rescore_id)
    assert done["status"] == "done", done["error"]
    r = done["summary"]["rescore"]
    texts_stored = len({title for _, title in corpus_rows()})  # scores are kept by text: two repeat
    assert r["version"] == new_scorer and r["scored"] == r["stale"] == texts_stored
    message, keep, offer = learning.training_message(done)
    assert text_of(message) == f"The store now scores with model {new_scorer[:8]}…: {texts_stored:,} texts rescored."
    assert keep is False and offer is None
    assert [m["in_use"] for m in list_models(service.store)] == [True]
    # the evidence now reads the new model's scores (and the labels are still there)
    out, texts = panel(service, SPIKE_DAY)
    assert len([c for c in out if isinstance(c, html.Details)]) == len(HOSTILE)
    assert len(list_labels(service.store)) == 3
