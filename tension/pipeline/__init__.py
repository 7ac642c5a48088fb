"""Writing to the store: ingest, dedupe, scoring work, rescore, the Dask engine."""
