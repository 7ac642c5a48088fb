"""Tension Index: ingest news, score hostility vs conciliation, read a daily index."""

__version__ = "0.1.0"
