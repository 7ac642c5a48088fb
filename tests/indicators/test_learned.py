"""The learned scorer: the seed checks, the issue's structural misses, explanations that add
up, calibrated probabilities, the version, and the model file."""

from __future__ import annotations

import gzip
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.learned.features import N_WORDS, Featurizer
from indicators.learned.model import LinearModel
from indicators.lexicon import load_lexicon
from indicators.scorers import load_model, scorer_for
from tests.indicators.test_scorer import SEED_META, SEED_TEXT, seed_sentence

SCORER = scorer_for()


def total(evidence: dict) -> float:
    return sum(m["contribution"] for m in evidence["matches"]) + sum(
        r["contribution"] for r in evidence["readings"])


# ---------------------------------------------------------------- the seed checks (issue 20)


@pytest.mark.parametrize(("needles", "label"), [
    (("fire and fury", "destroy"), "hostile"),
    (("These olive-branch overtures mark a significant milestone",), "conciliatory"),
    (("nuclear button", "boasted"), "hostile"),
    (("Panmunjom", "talks"), "conciliatory"),
])
def test_seed_sentences(needles, label):
    assert SCORER.score_sentence(seed_sentence(*needles)).label == label


def test_seed_article_as_a_whole_is_conciliatory():
    a = SCORER.score_article(SEED_META["title"], SEED_TEXT)
    assert a.label == "conciliatory"
    assert a.hostility > 0.1  # the threats are still there, outweighed


def test_a_delegation_touring_a_mill_is_neutral():
    s = SCORER.score_sentence("The delegation toured a textile mill and a children's palace.")
    assert s.label == "neutral"
    sites = [m for m in s.evidence()["matches"] if m["category"] == "domestic_sites"]
    assert {m["term"] for m in sites} >= {"tour", "textile", "mill"}
    assert all(m["contribution"] > 0 for m in sites)  # they pull away from conciliatory


@pytest.mark.parametrize("sentence", [
    "They are only paying lip-service to dialogue.",
    "They turned down those peace proposals.",
    "The agreement they railroaded through was a fraud.",
])
def test_attacks_on_peace_are_hostile(sentence):
    """The issue's structural misses: mentioning what is attacked must not flip the stance."""
    assert SCORER.score_sentence(sentence).label == "hostile"


@pytest.mark.parametrize("sentence", ["The first-aid room was opened.", "He laid a wreath at the war memorial."])
def test_domestic_uses_of_diplomatic_words_are_neutral(sentence):
    assert SCORER.score_sentence(sentence).label == "neutral"


# ---------------------------------------------------------------- explanations add up

SENTENCES = [
    "The North threatened a nuclear strike.", "The two sides signed a peace agreement.",
    "The harvest was good this year.", "They did not reject the talks.",
    "Kim Jong Un toured a factory.", "",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_sentence_evidence_adds_up_to_the_tension(sentence):
    s = SCORER.score_sentence(sentence)
    assert math.isclose(s.tension, s.hostility - s.conciliation, abs_tol=2e-6)
    assert math.isclose(s.hostility + s.neutral + s.conciliation, 1.0, abs_tol=3e-6)
    assert total(s.evidence()) == pytest.approx(s.tension, abs=1e-9)


def test_contributions_are_the_integrated_gradients():
    """Independent check: the contributions sum to T(x) - T(0), computed from the weights."""
    model = load_model()
    sentence = "The puppet warmongers staged provocative drills against the talks."
    s = SCORER.score_sentence(sentence)
    x = SCORER.featurizer.features(sentence).x
    ph, _, pc = model.proba(x)
    # equal up to the quadrature's error (10 nodes), which the sentence's baseline term takes
    assert sum(s.contributions().values()) == pytest.approx((ph - pc) - model.baseline(), abs=1e-3)
    assert max(s.contributions().items(), key=lambda kv: abs(kv[1]))[1] > 0  # hostile drivers lead


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(SENTENCES[:-1] + ["Talks.", "War!", "A mill.", "Aid was sent."]),
                min_size=1, max_size=6))
def test_article_terms_add_up(parts):
    a = SCORER.score_text(" ".join(parts))
    assert sum(a.terms.values()) == pytest.approx(a.tension, abs=1e-5)
    for e in a.evidence():
        assert total(e) == pytest.approx(e["tension"], abs=1e-9)


def test_evidence_spans_index_the_sentence():
    sentence = "South Korea proposed talks, but the North rejected the proposal."
    e = SCORER.score_sentence(sentence).evidence()
    assert e["matches"]
    for m in e["matches"]:
        assert sentence[m["start"]:m["end"]] == m["text"]
        assert (m["contribution"] > 0) == (m["pole"] == "hostility")


# ---------------------------------------------------------------- the model and its version


def test_model_file_round_trips_and_detects_tampering():
    model = load_model()
    again = LinearModel.from_bytes(model.to_bytes())
    assert again.version == model.version and again.weights == model.weights
    tampered = dict(model.weights)
    f = next(iter(tampered))
    tampered[f] = (tampered[f][0] + 1.0, *tampered[f][1:])
    forged = LinearModel(tampered, model.bias, model.settings, model.meta)
    doc = json.loads(gzip.decompress(forged.to_bytes()))
    doc["version"] = model.version  # weights edited, the old version kept
    raw = gzip.compress(json.dumps(doc).encode())
    with pytest.raises(ValueError, match="changed by hand or damaged"):
        LinearModel.from_bytes(raw)
    with pytest.raises(ValueError, match="not a model file"):
        LinearModel.from_bytes(b"not gzip")


def test_scorer_version_covers_model_and_lexicon():
    from indicators.learned.scorer import LearnedScorer
    from indicators.lexicon import default_lexicon_bytes

    model = load_model()
    other = LinearModel({**model.weights, 7: (0.1, 0.0, -0.1)}, model.bias, model.settings)
    assert other.version != model.version
    assert LearnedScorer(load_lexicon(), other).version != SCORER.version
    edited = default_lexicon_bytes().replace(b'  "threat", "threaten",', b'  "threat", { term = "threaten", weight = 0.3 },', 1)
    assert edited != default_lexicon_bytes()
    assert scorer_for(edited).version != SCORER.version
    assert scorer_for().version == SCORER.version  # and nothing else moves it


def test_shipped_model_is_calibrated_and_says_what_it_was_trained_on():
    meta = load_model().meta
    assert meta["trained_on"]["hostile"] > 500 and meta["trained_on"]["conciliatory"] > 500
    assert meta["calibration"]["calibrated"]["ece"] <= meta["calibration"]["raw"]["ece"] + 1e-9
    assert meta["calibration"]["calibrated"]["ece"] < 0.05
    assert meta["cv"]["macro_f1"] > 0.8


def test_features_are_stable_numbers():
    """Hashed features are the same in every process and on every machine (CRC32, not Python's
    salted hash): the shipped base set's features depend on it."""
    from indicators.learned.features import word_index

    assert (word_index("talk"), word_index("threaten")) == (54715, 234785)
    f = Featurizer(load_lexicon()).features("Talks resumed at Panmunjom.")
    assert word_index("talk") in f.unigrams
    assert all(0 <= i < N_WORDS for i in f.unigrams + f.bigrams if i >= 0)
