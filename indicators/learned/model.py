"""The learned model: a multinomial logistic regression (fitted by scikit-learn, see
`tension.pipeline.train`) applied here without it, and its exact explanations.

Probabilities are softmax(W·x + b) over hostile, neutral, conciliatory (W and b already
divided by the temperature that calibrates them). A sentence's tension is
P(hostile) − P(conciliatory), in [−1, 1].

Explanations add up exactly. Tension is not linear in the features, so each feature gets its
integrated gradient along the straight path from no features (x = 0) to the sentence:
contribution_f = x_f · Σ_k W_kf · ∫₀¹ ∂T/∂z_k(b + α·W·x) dα. The integral depends on the
sentence only through its three logits, so it is computed once per sentence (Gauss–Legendre
quadrature), and the contributions sum to T(x) − T(0); T(0), the model's baseline, is the
sentence's remaining term. A feature that pushes towards neutral gets a contribution that
pulls the tension towards 0, whichever side it is on.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

CLASSES = ("hostile", "neutral", "conciliatory")
# Gauss–Legendre nodes and weights on [0, 1]: these integrands are smooth and bounded, and
# what quadrature leaves over goes to the sentence's baseline term, so the sum stays exact.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)
_NODES, _WEIGHTS = (_GL_X + 1) / 2, _GL_W / 2
DIGITS = 6  # weights are stored rounded, so that the same training gives the same model file


def softmax3(z: tuple[float, float, float]) -> tuple[float, float, float]:
    top = max(z)
    e = [math.exp(v - top) for v in z]
    s = e[0] + e[1] + e[2]
    return e[0] / s, e[1] / s, e[2] / s


@dataclass(frozen=True)
class LinearModel:
    """Weights per feature index (hostile, neutral, conciliatory), biases, the featurizer's
    settings and what the model was trained on (`meta`)."""

    weights: Mapping[int, tuple[float, float, float]]
    bias: tuple[float, float, float]
    settings: dict
    meta: dict = field(default_factory=dict, compare=False)

    def __hash__(self) -> int:
        return hash(self.version)

    @property
    def version(self) -> str:
        """Changes whenever a prediction could change: a hash of weights, biases and feature
        settings (not of `meta`, which only describes the training)."""
        return self.__dict__.setdefault("_version", hashlib.sha256(self._canonical()).hexdigest()[:16])

    def _canonical(self) -> bytes:
        body = {"weights": [[k, *v] for k, v in sorted(self.weights.items())], "bias": list(self.bias),
                "settings": self.settings}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def logits(self, x: Mapping[int, float]) -> tuple[float, float, float]:
        zh, zn, zc = self.bias
        w = self.weights
        for f, v in x.items():
            row = w.get(f)
            if row is not None:
                zh += v * row[0]
                zn += v * row[1]
                zc += v * row[2]
        return zh, zn, zc

    def proba(self, x: Mapping[int, float]) -> tuple[float, float, float]:
        return softmax3(self.logits(x))

    def baseline(self) -> float:
        """The tension of a sentence without features."""
        ph, _, pc = softmax3(self.bias)
        return ph - pc

    def gradient_integral(self, z: np.ndarray) -> np.ndarray:
        """∫₀¹ ∂T/∂z_k along the straight path of logits from the bias to `z` (3 values)."""
        b = self._arrays()[1]
        path = b + _NODES[:, None] * (z - b)  # nodes × 3
        e = np.exp(path - path.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        t = p[:, 0] - p[:, 2]
        grad = np.column_stack((p[:, 0] * (1.0 - t), -t * p[:, 1], -p[:, 2] * (1.0 + t)))
        return _WEIGHTS @ grad

    def explain(self, x: Mapping[int, float], z: tuple[float, float, float]) -> dict[int, float]:
        """Each feature's contribution to T(x) − T(0) (integrated gradients), given the
        sentence's logits `z`."""
        g = self.gradient_integral(np.asarray(z, dtype=np.float64))
        out = {}
        for f, v in x.items():
            row = self.weights.get(f)
            if row is not None:
                out[f] = v * (row[0] * g[0] + row[1] * g[1] + row[2] * g[2])
        return out

    def score(self, idx: np.ndarray, vals: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Many sentences at once: sentence k's features are idx[starts[k]:starts[k + 1]] with
        their values. Returns the probabilities (sentences × (hostile, neutral, conciliatory))
        and each listed feature's contribution to its sentence's T(x) − T(0), as `explain`
        gives them (a feature listed twice gets its share twice)."""
        dense, b = self._arrays()
        known = idx < len(dense)
        rows = dense[np.where(known, idx, 0)] * known[:, None]
        n = len(starts) - 1
        seg = np.repeat(np.arange(n), np.diff(starts))
        weighted = rows * vals[:, None]
        z = b + np.column_stack([np.bincount(seg, weights=weighted[:, k], minlength=n) for k in range(3)])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        # the gradient integral of every sentence at once: sentences × nodes × classes
        path = b + _NODES[None, :, None] * (z - b)[:, None, :]
        pe = np.exp(path - path.max(axis=2, keepdims=True))
        pp = pe / pe.sum(axis=2, keepdims=True)
        t = pp[..., 0] - pp[..., 2]
        grad = np.stack((pp[..., 0] * (1.0 - t), -t * pp[..., 1], -pp[..., 2] * (1.0 + t)), axis=2)
        g = np.einsum("j,ijk->ik", _WEIGHTS, grad)
        return p, vals * np.einsum("ik,ik->i", rows, g[seg])

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The weights as a dense array (features × classes) and the biases, built once."""
        arrays = self.__dict__.get("_dense")
        if arrays is None:
            n = max(self.weights, default=0) + 1
            n = max(n, max(self.settings.get("named", {}).values(), default=0) + 1)
            dense = np.zeros((n, 3))
            if self.weights:
                keys = np.fromiter(self.weights, dtype=np.int64, count=len(self.weights))
                dense[keys] = np.array(list(self.weights.values()))
            arrays = self.__dict__["_dense"] = (dense, np.asarray(self.bias, dtype=np.float64))
        return arrays

    def to_bytes(self) -> bytes:
        doc = {"format": "tension-linear-1", "weights": {str(k): list(v) for k, v in sorted(self.weights.items())},
               "bias": list(self.bias), "settings": self.settings,
               "meta": self.meta, "version": self.version}
        return gzip.compress(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        try:
            doc = json.loads(gzip.decompress(data))
            model = cls({int(k): tuple(v) for k, v in doc["weights"].items()}, tuple(doc["bias"]),
                        dict(doc["settings"]), dict(doc.get("meta", {})))
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a model file of this tool: {exc}") from None
        if doc.get("version") not in (None, model.version):
            raise ValueError(f"the model file says version {doc['version']} but its weights give "
                             f"{model.version}: it was changed by hand or damaged")
        return model

    @classmethod
    def from_arrays(cls, coef: np.ndarray, intercept: np.ndarray, classes: list[str], *,
                    temperature: float, settings: dict, meta: dict) -> LinearModel:
        """From scikit-learn's coef_ (classes × features) and intercept_, in its class order:
        divided by the temperature, rounded, and features whose weights round to 0 dropped."""
        order = [list(classes).index(c) for c in CLASSES]
        w = np.round(np.asarray(coef)[order] / temperature, DIGITS) + 0.0  # no -0.0
        keep = np.flatnonzero(np.any(w != 0, axis=0))
        weights = {int(f): tuple(float(v) for v in w[:, f]) for f in keep}
        bias = tuple(float(v) for v in np.round(np.asarray(intercept)[order] / temperature, DIGITS) + 0.0)
        return cls(weights, bias, settings, meta)
