"""The store: SQL through SQLAlchemy Core on SQLite or PostgreSQL. The only layer with SQL."""
