"""Training the learned scorer (scikit-learn's multinomial logistic regression), reproducibly.

The base training set is the shared labelled sentences (`gold_sentences_train.jsonl`) and
the sentences this project labelled from the unlabelled pool (two independent readers,
agreed items only: their ids and labels are in `indicators/learned/pool_labels.csv`; the
texts stay in the shared data). `train_from_data` builds the base set's features from those
files and fits the shipped model; `base.npz` keeps the base set as hashed features, so that
an installed copy, which has no shared data, can train a store's own model from the base
set and the analysts' labels (`train_with_labels`).

Settings (regularisation, features, the weight of an analyst's label) are chosen by
cross-validation and kept in `indicators/learned/training.toml`; the temperature that
calibrates the probabilities and the label threshold are fitted on out-of-fold predictions.
Everything is seeded and single-threaded, and weights are rounded, so the same data gives
the same model version.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indicators.combine import LABELS, Scorer
from indicators.evaluate import Report, metrics
from indicators.learned.features import Featurizer
from indicators.learned.model import CLASSES, LinearModel
from indicators.lexicon import Lexicon
from indicators.vader import vader_compound, vader_label

TRAIN_FILE = "gold_sentences_train.jsonl"
POOL_FILE = "sentence_pool.jsonl.gz"
DEV_FILE = "gold_sentences_dev.jsonl"
MIN_PER_CLASS = 20  # fewer examples of a class than this and no model is trained


class TrainingError(ValueError):
    """Training cannot give a usable model (too few examples of a class, missing data)."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    weight: float = 1.0
    source: str = "base"  # base | analyst


@dataclass
class Trained:
    """A fitted model and what cross-validation says of it (and of the baselines)."""

    model: LinearModel
    cv: Report
    cv_lexicon: Report | None = None
    cv_vader: Report | None = None
    dev: Report | None = None
    counts: dict = field(default_factory=dict)
    predicted: list[str] = field(default_factory=list)  # each sentence's out-of-fold label

    def lines(self) -> list[str]:
        """The figures for people, the learned model beside the others."""
        out = [f"model {self.model.version}: {sum(self.counts.values()):,} sentences "
               + ", ".join(f"{k} {v:,}" for k, v in self.counts.items())]
        for name, r in (("learned (5-fold CV)", self.cv), ("lexicon scorer", self.cv_lexicon),
                        ("plain VADER", self.cv_vader), ("learned on the dev set", self.dev)):
            if r is not None:
                per = ", ".join(f"{c} {r.per_class[c].f1:.3f}" for c in LABELS)
                out.append(f"  {name:<24} macro-F1 {r.macro_f1:.3f} ({per})")
        return out


def settings_file() -> dict:
    return tomllib.loads(resources.files("indicators.learned").joinpath("training.toml").read_text())


# ------------------------------------------------------------------------------ data
def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def pool_labels() -> list[tuple[str, str]]:
    """(pool id, label) of the sentences this project labelled from the pool."""
    text = resources.files("indicators.learned").joinpath("pool_labels.csv").read_text()
    rows = [line.split(",") for line in text.splitlines()[1:] if line.strip()]
    return [(r[0], r[1]) for r in rows]


def base_examples(data: Path) -> list[Example]:
    """The base training set from the shared data folder."""
    missing = [n for n in (TRAIN_FILE, POOL_FILE) if not (data / n).is_file()]
    if missing:
        raise TrainingError(f"{data}: {', '.join(missing)} not found; the base training set is "
                            "read from the shared data folder (--data DIR)")
    rows = [Example(r["text"], r["label"]) for r in read_jsonl(data / TRAIN_FILE)]
    pool = {r["id"]: r["text"] for r in read_jsonl(data / POOL_FILE)}
    rows += [Example(pool[i], label) for i, label in pool_labels()]
    return rows


# -------------------------------------------------------------------------- features
def featurize(texts: Iterable[str], featurizer: Featurizer) -> sp.csr_matrix:
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        x = featurizer.features(text).x
        for k in sorted(x):
            indices.append(k)
            data.append(x[k])
        indptr.append(len(indices))
    return sp.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
                          np.asarray(indptr, dtype=np.int64)), shape=(len(indptr) - 1, featurizer.n_features))


def _targets(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([CLASSES.index(e.label) for e in examples])
    w = np.array([e.weight for e in examples], dtype=np.float64)
    return y, w


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class Fitted:
    """A fitted multinomial logistic regression, over all the features' columns."""

    coef_: np.ndarray  # classes x features, in `classes_` order
    intercept_: np.ndarray
    classes_: np.ndarray

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        return X @ self.coef_.T + self.intercept_  # scikit-learn's own formula


def _fit(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, s: dict) -> Fitted:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    # Fit on the columns some sentence uses, a fifth of the hashed space: an unused column's
    # weight stays 0 (its gradient is only the penalty's), so the weights and the model file
    # are the full fit's, for a fraction of the time (docs/benchmarks.md, "Scoring").
    used = np.flatnonzero(X.getnnz(axis=0))
    with threadpool_limits(1):  # one thread: the same sums in the same order, the same weights
        fit = LogisticRegression(C=float(s["C"]), max_iter=int(s["max_iter"]), tol=float(s["tol"]),
                                 solver="lbfgs").fit(X[:, used], y, sample_weight=w)
    coef = np.zeros((fit.coef_.shape[0], X.shape[1]))
    coef[:, used] = fit.coef_
    return Fitted(coef, fit.intercept_, fit.classes_)


def _logits(model: Fitted, X: sp.csr_matrix) -> np.ndarray:
    """Decision values in CLASSES order."""
    z = model.decision_function(X)
    order = [list(model.classes_).index(k) for k in range(len(CLASSES))]
    return z[:, order]


def out_of_fold(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, s: dict) -> np.ndarray:
    """Each sentence's logits from the model trained on the other folds."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(int(s["folds"]), shuffle=True, random_state=int(s["seed"])).split(X, y))
    # folds in parallel, each on one thread: the same numbers as one after the other
    parts = Parallel(n_jobs=min(len(folds), os.cpu_count() or 1))(
        delayed(_fold)(X, y, w, s, train, test) for train, test in folds)
    oof = np.zeros((len(y), len(CLASSES)))
    for (_, test), logits in zip(folds, parts, strict=True):
        oof[test] = logits
    return oof


def _fold(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, s: dict, train: np.ndarray,
          test: np.ndarray) -> np.ndarray:
    return _logits(_fit(X[train], y[train], w[train], s), X[test])


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that makes out-of-fold probabilities best calibrated (least log loss),
    by golden-section search on log τ over [0.2, 5]: a fixed number of steps, so the same
    logits give the same τ."""
    def loss(log_t: float) -> float:
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))

    lo, hi = math.log(0.2), math.log(5.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = loss(b)
    return round(math.exp((lo + hi) / 2), 4)


def _labels(logits: np.ndarray) -> list[str]:
    from indicators.learned.scorer import label_of

    out = []
    for row in logits:
        e = np.exp(row - row.max())
        p = e / e.sum()
        out.append(label_of(*p.tolist()))
    return out


def calibration(logits: np.ndarray, y: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error (of the most probable class) and the Brier score."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(float((pred[inside] == y[inside]).mean()) - float(conf[inside].mean()))
    brier = float(np.mean(np.sum((p - np.eye(len(CLASSES))[y]) ** 2, axis=1)))
    return {"ece": round(float(ece), 4), "brier": round(brier, 4)}


def train(examples: list[Example], lexicon: Lexicon, settings: dict | None = None, *,
          X: sp.csr_matrix | None = None, dev: list[dict] | None = None,
          baselines: bool = True, log: Callable[[str], None] | None = None) -> Trained:
    """Fit a model on the examples (features computed here unless `X` gives them, in the
    examples' order), with cross-validated figures, a calibrated temperature and, if asked,
    the lexicon scorer's and plain VADER's figures on the same sentences."""
    s = {**settings_file(), **(settings or {})}
    counts = {c: sum(e.label == c for e in examples) for c in CLASSES}
    short = {c: n for c, n in counts.items() if n < MIN_PER_CLASS}
    if short:
        raise TrainingError("too few labelled sentences to train: " + ", ".join(
            f"{c} {n} (at least {MIN_PER_CLASS} needed)" for c, n in short.items()))
    featurizer = Featurizer(lexicon, ngrams=int(s["ngrams"]), vader=str(s["vader"]))
    if X is None:
        X = featurize((e.text for e in examples), featurizer)
    y, w = _targets(examples)
    say = log or (lambda _m: None)
    say(f"cross-validating on {len(y):,} sentences ({int(s['folds'])} folds)")
    oof = out_of_fold(X, y, w, s)
    temperature = fit_temperature(oof, y)
    gold = [e.label for e in examples]
    predicted = _labels(oof)
    cv = metrics("learned model", gold, predicted)
    say("fitting the final model")
    final = _fit(X, y, w, s)
    meta = {"trained_on": {**counts, "analyst": sum(e.source == "analyst" for e in examples)},
            "temperature": temperature, "cv": cv.as_dict(),
            "calibration": {"raw": calibration(oof, y), "calibrated": calibration(oof / temperature, y)},
            "training": {k: s[k] for k in ("C", "ngrams", "vader", "folds", "seed", "analyst_weight")}}
    model = LinearModel.from_arrays(final.coef_, final.intercept_, [CLASSES[k] for k in final.classes_],
                                    temperature=temperature, settings=featurizer.settings, meta=meta)
    out = Trained(model, cv, counts=counts, predicted=predicted)
    if baselines:
        lex = Scorer(lexicon)
        out.cv_lexicon = metrics("lexicon scorer", gold, [lex.score_text(e.text).label for e in examples])
        out.cv_vader = metrics("plain VADER", gold, [vader_label(vader_compound(e.text)) for e in examples])
        model.meta["cv_lexicon"], model.meta["cv_vader"] = out.cv_lexicon.as_dict(), out.cv_vader.as_dict()
    if dev:
        from indicators.learned.scorer import LearnedScorer

        scorer = LearnedScorer(lexicon, model)
        out.dev = metrics("learned, dev set", [r["label"] for r in dev],
                          [scorer.score_text(r["text"]).label for r in dev])
        model.meta["dev"] = out.dev.as_dict()
    return out


# -------------------------------------------------------------- the base set as features
BASE_FILE = "base.npz"


def save_base(path: Path, X: sp.csr_matrix, examples: list[Example], featurizer: Featurizer) -> None:
    """The base set as hashed features and labels: what an installed copy trains from."""
    y, w = _targets(examples)
    meta = json.dumps({"settings": featurizer.settings, "lexicon": featurizer.lexicon.digest},
                      sort_keys=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, indptr=X.indptr.astype(np.int32), indices=X.indices.astype(np.int32),
                        data=X.data, y=y.astype(np.int8), w=w, meta=np.array(meta))
    path.write_bytes(buf.getvalue())


def load_base(lexicon: Lexicon, data: bytes | None = None) -> tuple[sp.csr_matrix, list[Example]]:
    """The shipped base set (features, and examples without their texts)."""
    raw = data if data is not None else resources.files("indicators.learned").joinpath(BASE_FILE).read_bytes()
    with np.load(io.BytesIO(raw)) as z:
        meta = json.loads(str(z["meta"]))
        if meta["lexicon"] != lexicon.digest:
            raise TrainingError("the shipped base training set was made with the shipped lexicon, and "
                                "this store scores with another: train from the shared data instead "
                                "(--data DIR), or go back to the shipped lexicon")
        n_features = max(meta["settings"]["named"].values()) + 1
        X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(len(z["y"]), n_features))
        examples = [Example("", CLASSES[int(k)], float(wt)) for k, wt in zip(z["y"], z["w"], strict=True)]
    return X, examples


def stack(X: sp.csr_matrix, more: sp.csr_matrix) -> sp.csr_matrix:
    n = max(X.shape[1], more.shape[1])
    return sp.vstack([sp.csr_matrix(X, shape=(X.shape[0], n)), sp.csr_matrix(more, shape=(more.shape[0], n))]).tocsr()


def train_from_data(data: Path, out: Path | None = None, settings: dict | None = None,
                    log: Callable[[str], None] | None = None) -> Trained:
    """The shipped model: trained on the base set read from the shared data folder, with the
    dev set's figures; with `out` (a folder), the model and the base set's features are
    written there (`model.json.gz`, `base.npz`)."""
    from indicators.lexicon import load_lexicon

    lexicon = load_lexicon()
    s = {**settings_file(), **(settings or {})}
    examples = base_examples(data)
    featurizer = Featurizer(lexicon, ngrams=int(s["ngrams"]), vader=str(s["vader"]))
    X = featurize((e.text for e in examples), featurizer)
    dev = read_jsonl(data / DEV_FILE) if (data / DEV_FILE).is_file() else None
    trained = train(examples, lexicon, s, X=X, dev=dev, log=log)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.json.gz").write_bytes(trained.model.to_bytes())
        save_base(out / BASE_FILE, X, examples, featurizer)
    return trained


def search(data: Path, log: Callable[[str], None] | None = None) -> list[dict]:
    """Cross-validated and dev macro-F1 of every combination of training.toml's [search]
    grid (the figures the shipped settings were chosen by), best cross-validated first."""
    from itertools import product

    from indicators.learned.scorer import LearnedScorer
    from indicators.lexicon import load_lexicon

    lexicon = load_lexicon()
    base = settings_file()
    grid = base["search"]
    examples = base_examples(data)
    y, w = _targets(examples)
    dev = read_jsonl(data / DEV_FILE)
    rows = []
    for ngrams, vader in product(grid["ngrams"], grid["vader"]):
        featurizer = Featurizer(lexicon, ngrams=int(ngrams), vader=str(vader))
        X = featurize((e.text for e in examples), featurizer)
        for C in grid["C"]:
            s = {**base, "ngrams": ngrams, "vader": vader, "C": C}
            oof = out_of_fold(X, y, w, s)
            cv = metrics("cv", [e.label for e in examples], _labels(oof))
            final = _fit(X, y, w, s)
            model = LinearModel.from_arrays(final.coef_, final.intercept_,
                                            [CLASSES[k] for k in final.classes_], temperature=1.0,
                                            settings=featurizer.settings, meta={})
            scorer = LearnedScorer(lexicon, model)
            on_dev = metrics("dev", [r["label"] for r in dev], [scorer.score_text(r["text"]).label for r in dev])
            rows.append({"ngrams": ngrams, "vader": vader, "C": C, "cv_macro_f1": round(cv.macro_f1, 4),
                         "dev_macro_f1": round(on_dev.macro_f1, 4)})
            if log:
                log(f"ngrams {ngrams} vader {vader:<8} C {C:<4}: CV {cv.macro_f1:.3f}, dev {on_dev.macro_f1:.3f}")
    return sorted(rows, key=lambda r: (-r["cv_macro_f1"], -r["dev_macro_f1"]))


@dataclass
class StoreTraining:
    """A model trained for a store, and how it compares with the one the store uses now."""

    trained: Trained
    current_version: str
    current_cv: dict | None  # the current model's own cross-validated figures, as trained
    on_labels: dict  # how many analyst labels each model gets right: current, new (out of fold)
    n_labels: int

    def lines(self) -> list[str]:
        out = self.trained.lines()
        if self.current_cv:
            out.append(f"  current model {self.current_version}: cross-validated macro-F1 "
                       f"{self.current_cv['macro_f1']:.3f} when it was trained")
        if self.n_labels:  # a count, not macro-F1: a few labels often miss whole classes
            n = self.n_labels
            out.append(f"  on the {n:,} analyst label{'' if n == 1 else 's'}: current model right on "
                       f"{self.on_labels['current']:,} of {n:,}, new model (out of fold) right on "
                       f"{self.on_labels['new']:,} of {n:,}")
        return out

    def report(self) -> dict:
        return {"cv": self.trained.cv.as_dict(), "trained_on": self.trained.model.meta["trained_on"],
                "current": {"version": self.current_version, "cv": self.current_cv},
                "on_labels": self.on_labels, "n_labels": self.n_labels}


def train_for_store(labels: list[dict], lexicon: Lexicon, current: LinearModel, *,
                    data: Path | None = None, base: bool = True,
                    log: Callable[[str], None] | None = None) -> StoreTraining:
    """A model from the base set (the shipped features, or rebuilt from `data`) and the
    analysts' labels, each weighing `analyst_weight` base sentences."""
    from indicators.learned.scorer import LearnedScorer

    s = settings_file()
    analyst = [Example(r["text"], r["label"], float(s["analyst_weight"]), "analyst") for r in labels]
    featurizer = Featurizer(lexicon, ngrams=int(s["ngrams"]), vader=str(s["vader"]))
    X = featurize((e.text for e in analyst), featurizer)
    examples = analyst
    if base:
        if data is not None:
            base_set = base_examples(data)
            X_base = featurize((e.text for e in base_set), featurizer)
        else:
            X_base, base_set = load_base(lexicon)
        X, examples = stack(X_base, X), base_set + analyst
    trained = train(examples, lexicon, s, X=X, baselines=False, log=log)
    on_labels = {"current": 0, "new": 0}
    if analyst:
        now = LearnedScorer(lexicon, current)
        on_labels["current"] = sum(now.score_text(e.text).label == e.label for e in analyst)
        on_labels["new"] = sum(p == e.label for p, e in zip(trained.predicted[-len(analyst):], analyst, strict=True))
    return StoreTraining(trained, current.version, current.meta.get("cv"), on_labels, len(analyst))
