"""Training the learned scorer: the shipped model is what the shared data give, too few labels
keep the current model, and the learning loop of issue 20 works end to end (labels for
sentences the model gets wrong → `train --db` → `score-text --db` gets them right, the dev
figures hold)."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indicators.evaluate import evaluate
from indicators.learned.model import LinearModel
from indicators.lexicon import load_lexicon
from indicators.scorers import load_model, scorer_for, shipped_model_bytes
from tension.pipeline.train import Example, TrainingError, train
from tension.store.engine import Store
from tension.store.labels import set_labels
from tension.store.scoring import store_model, store_scorer

ROOT = Path(__file__).resolve().parents[2]
RESERVE = ROOT / "tests" / "fixtures" / "analyst_labels.csv"  # pool ids + agreed labels, kept out of training


def run(*args: str, stdin: bytes = b"", timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "tension", *args], input=stdin, capture_output=True,
                          cwd=ROOT, env=env, timeout=timeout)


def reserve_rows(shared_data) -> list[dict]:
    """The reserved labelled pool sentences, with their texts read from ../shared."""
    labels = {r["id"]: r["label"] for r in csv.DictReader(RESERVE.open(encoding="utf-8"))}
    with gzip.open(shared_data("sentence_pool.jsonl.gz"), "rt", encoding="utf-8") as fh:
        texts = {d["id"]: d["text"] for d in map(json.loads, fh) if d["id"] in labels}
    assert len(texts) == len(labels) == 300
    return [{"id": i, "text": texts[i], "label": label} for i, label in labels.items()]


def test_too_few_labels_per_class_is_refused_and_says_which():
    examples = [Example(f"They threatened war {i}.", "hostile") for i in range(30)] + [
        Example(f"Talks were held {i}.", "conciliatory") for i in range(5)]
    with pytest.raises(TrainingError, match=r"neutral 0 \(at least 20 needed\)") as err:
        train(examples, load_lexicon())
    assert "conciliatory 5" in str(err.value) and "hostile" not in str(err.value)


def test_store_training_without_the_base_set_and_few_labels_keeps_the_model(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    before = store_model(store)
    set_labels(store, [("The army fired shells.", "hostile", "ana"), ("Talks began.", "conciliatory", "ana")])
    result = run("train", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--no-base")
    assert result.returncode != 0
    assert b"too few labelled sentences" in result.stderr
    assert store_model(Store(f"sqlite:///{tmp_path / 'a.db'}")) == before


@pytest.mark.slow
@pytest.mark.corpus
def test_training_from_the_shared_files_reproduces_the_shipped_model(shared_data, tmp_path):
    data = shared_data("gold_sentences_train.jsonl").parent
    result = run("train", "--data", str(data), "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    shipped = load_model()
    assert report["version"] == shipped.version
    assert LinearModel.from_bytes((tmp_path / "model.json.gz").read_bytes()).version == shipped.version
    assert (tmp_path / "model.json.gz").read_bytes() == shipped_model_bytes()
    assert (tmp_path / "base.npz").read_bytes() == (ROOT / "indicators" / "learned" / "base.npz").read_bytes()
    # the figures it prints: the learned model beats the lexicon scorer and VADER
    assert report["cv"]["macro_f1"] > report["lexicon"]["macro_f1"] > report["vader"]["macro_f1"]
    assert report["dev"]["macro_f1"] == pytest.approx(shipped.meta["dev"]["macro_f1"])


@pytest.mark.slow
@pytest.mark.corpus
def test_the_learning_loop(shared_data, tmp_path):
    """Issue 20's acceptance: labels for 40 sentences the shipped model gets wrong, `train
    --db`, then `score-text --db` gets most of them right and the dev figures hold."""
    shipped = scorer_for()
    wrong = [r for r in reserve_rows(shared_data) if shipped.score_text(r["text"]).label != r["label"]][:40]
    assert len(wrong) == 40
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["text", "label", "author"])
        w.writeheader()
        w.writerows({"text": r["text"], "label": r["label"], "author": "loop test"} for r in wrong)
    assert run("labels", "import", str(labels), "--db", url).returncode == 0

    trained = run("train", "--db", url, "--json")
    assert trained.returncode == 0, trained.stderr.decode()
    report = json.loads(trained.stdout)
    assert report["n_labels"] == 40
    new_version = store_scorer(Store(url)).version
    assert new_version != shipped.version

    scored = run("score-text", "--db", url, stdin="\n".join(r["text"] for r in wrong).encode() + b"\n")
    assert scored.returncode == 0, scored.stderr.decode()
    got = [json.loads(line)["label"] for line in scored.stdout.decode().splitlines()]
    right = sum(g == r["label"] for g, r in zip(got, wrong, strict=True))
    assert right >= 30, f"{right} of 40 right after training"

    dev = [json.loads(line) for line in shared_data("gold_sentences_dev.jsonl").read_text("utf-8").splitlines()]
    before = evaluate(dev, shipped)[0].macro_f1
    after = evaluate(dev, store_scorer(Store(url)))[0].macro_f1
    assert after >= before - 0.02, (before, after)


def test_fitting_on_the_used_columns_gives_the_full_fits_weights() -> None:
    """_fit leaves out the feature columns no sentence uses; the weights and logits must be the
    ones scikit-learn finds on all the columns, and an unused column's weight exactly 0."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from tension.pipeline.train import _fit

    rng = np.random.default_rng(0)
    n, width = 300, 5_000
    X = sp.hstack([sp.random(n, 40, density=0.3, random_state=2),  # the columns that carry the labels
                   sp.random(n, width - 40, density=0.002, random_state=1)]).tocsr()
    y = (np.asarray(X[:, :40].sum(axis=1)).ravel() * 3).astype(int) % 3
    w = rng.uniform(0.5, 2.0, n)
    s = {"C": 2.0, "max_iter": 1000, "tol": 1e-4}
    ours = _fit(X, y, w, s)
    full = LogisticRegression(C=2.0, max_iter=1000, tol=1e-4, solver="lbfgs").fit(X, y, sample_weight=w)
    unused = np.asarray(X.getnnz(axis=0)) == 0
    assert unused.sum() > width // 2  # the case the shortcut is for
    assert (ours.coef_[:, unused] == 0).all()
    np.testing.assert_allclose(ours.coef_, full.coef_, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, full.intercept_, atol=1e-9)
    np.testing.assert_allclose(ours.decision_function(X), full.decision_function(X), atol=1e-9)
    assert list(ours.classes_) == list(full.classes_)
