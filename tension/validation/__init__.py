"""Validation of the index and the scorer against real-world references (a front end)."""
