"""Which scorer scores: the learned scorer with the shipped model and lexicon, or a store's
own; and the lexicon scorer, kept as a baseline to compare with."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from indicators.actors import load_actors
from indicators.combine import Scorer
from indicators.learned.model import LinearModel
from indicators.learned.scorer import LearnedScorer
from indicators.lexicon import load_lexicon

MODEL_FILE = "model.json.gz"


def shipped_model_bytes() -> bytes:
    """The model shipped with the package (trained from the shared data, see `train`)."""
    return resources.files("indicators.learned").joinpath(MODEL_FILE).read_bytes()


@lru_cache(maxsize=8)
def load_model(data: bytes | None = None) -> LinearModel:
    """Parse (and memoise) a model; None means the shipped one."""
    return LinearModel.from_bytes(shipped_model_bytes() if data is None else data)


@lru_cache(maxsize=4)
def scorer_for(lexicon: bytes | None = None, model: bytes | None = None,
               actors: bytes | None = None) -> LearnedScorer:
    """The scorer for these lexicon, model and actors bytes (None: the shipped ones), built
    once a process."""
    return LearnedScorer(load_lexicon(lexicon), load_model(model), actors=load_actors(actors))


@lru_cache(maxsize=4)
def lexicon_scorer(lexicon: bytes | None = None) -> Scorer:
    """The lexicon scorer (the model's predecessor): a baseline for evaluations."""
    return Scorer(load_lexicon(lexicon))
