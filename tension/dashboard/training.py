"""The analysts' side of the learned scorer on the page: labels, and models trained from them
in the background (jobs in the store, like uploads), shown beside the current model before an
analyst makes one the store's model (and the store is rescored with it)."""

from __future__ import annotations

import threading
import uuid

from indicators.lexicon import load_lexicon
from indicators.scorers import load_model
from tension.pipeline.rescore import rescore
from tension.pipeline.train import TrainingError, train_for_store
from tension.store import jobs
from tension.store.engine import Store
from tension.store.labels import list_labels
from tension.store.scoring import add_model, store_lexicon, store_model, use_model


class Training:
    """Starts training and rescoring jobs; their state lives in the store's jobs table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self) -> str:
        """Train a model from the base set and the store's labels, in the background; the job
        ends "done" with the new model's version and figures (not yet in use)."""
        return self._run("train model", self._train)

    def use(self, version: str) -> str:
        """Make `version` the store's model and rescore the store with it, in the background."""
        use_model(self.store, version)
        return self._run("rescore", lambda job_id: {"rescore": rescore(self.store)})

    def get(self, job_id: str) -> dict | None:
        return jobs.get_job(self.store, job_id)

    def _train(self, job_id: str) -> dict:
        result = train_for_store(list_labels(self.store), load_lexicon(store_lexicon(self.store)),
                                 load_model(store_model(self.store)))
        report = result.report()
        version = add_model(self.store, result.trained.model.to_bytes(), report, result.n_labels)
        return {"version": version, "lines": result.lines(), **report}

    def _run(self, name: str, work) -> str:  # work: job id → the job's summary
        job_id = uuid.uuid4().hex
        jobs.add_job(self.store, job_id, name)

        def run() -> None:
            jobs.update_job(self.store, job_id, status="running")
            try:
                jobs.update_job(self.store, job_id, status="done", summary=work(job_id))
            except TrainingError as exc:
                jobs.update_job(self.store, job_id, status="failed", error=f"{exc}; the current model stays")
            except Exception as exc:  # reported on the page, not swallowed
                jobs.update_job(self.store, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")

        threading.Thread(target=run, daemon=True).start()
        return job_id
