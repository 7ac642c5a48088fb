"""The bottom layer: records, dates, filters, hashing, paths. Imports nothing of the project."""
