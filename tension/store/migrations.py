"""The store's migrations, registered in order and recorded in `schema_migrations`
(sqlite-utils style): opening a store applies the ones it has not seen, so a database made
today opens after later changes.

Rule for later changes: add a new migration that brings an *existing* database to the new
shape and is a no-op on a fresh one (0001 already builds the current tables there); never
edit a released migration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, inspect, select, text

from tension.store.schema import (
    alerts,
    articles,
    jobs,
    labels,
    metadata,
    models,
    revisions,
    schema_migrations,
    score_dyads,
    score_terms,
    settings,
    sources,
)

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a migration; they run in the order they are defined."""

    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_initial")
def _initial(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


@migration("0002_articles_date_hash_index")
def _date_hash_index(conn: Connection) -> None:
    # One (date, content_hash) index replaces the date index and the random-order
    # content_hash index: as fast for every query, and bulk writes faster.
    conn.execute(text("DROP INDEX IF EXISTS ix_articles_content_hash"))
    conn.execute(text("DROP INDEX IF EXISTS ix_articles_date"))
    next(i for i in articles.indexes if i.name == "ix_articles_date_hash").create(conn, checkfirst=True)


@migration("0003_settings")
def _settings(conn: Connection) -> None:
    settings.create(conn, checkfirst=True)


@migration("0004_ingest_files_content")
def _ingest_files_content(conn: Connection) -> None:
    have = {c["name"] for c in inspect(conn).get_columns("ingest_files")}
    for name, kind in (("content_digest", "VARCHAR(40)"), ("options", "TEXT")):
        if name not in have:  # a store made before this migration
            conn.execute(text(f"ALTER TABLE ingest_files ADD COLUMN {name} {kind}"))


@migration("0005_revisions")
def _revisions(conn: Connection) -> None:
    revisions.create(conn, checkfirst=True)


@migration("0006_jobs")
def _jobs(conn: Connection) -> None:
    jobs.create(conn, checkfirst=True)


@migration("0007_labels_models")
def _labels_models(conn: Connection) -> None:
    labels.create(conn, checkfirst=True)
    models.create(conn, checkfirst=True)


@migration("0008_score_terms_category_key")
def _score_terms_category_key(conn: Connection) -> None:
    # The learned scorer's terms include words, which may read like a lexicon entry ("war"):
    # the category joins the key. A store made before gets its table rebuilt, rows kept.
    key = inspect(conn).get_pk_constraint("score_terms")
    if "category" in key["constrained_columns"]:
        return  # made by 0001 with today's tables
    if conn.dialect.name == "postgresql":
        conn.execute(text(f'ALTER TABLE score_terms DROP CONSTRAINT "{key["name"]}"'))
        conn.execute(text("ALTER TABLE score_terms ADD PRIMARY KEY "
                          "(content_hash, scorer_version, term, pole, category)"))
        return
    conn.execute(text("ALTER TABLE score_terms RENAME TO score_terms_0007"))
    score_terms.create(conn)
    conn.execute(text("INSERT INTO score_terms SELECT content_hash, scorer_version, term, pole, "
                      "category, contribution FROM score_terms_0007"))
    conn.execute(text("DROP TABLE score_terms_0007"))


@migration("0009_score_terms_category_index")
def _score_terms_category_index(conn: Connection) -> None:
    # A category filter scanned every term of the store; the index reads only that
    # scorer's terms of those categories (figures in docs/benchmarks.md).
    for index in score_terms.indexes:
        index.create(conn, checkfirst=True)


@migration("0010_score_dyads")
def _score_dyads(conn: Connection) -> None:
    # Targets of each score (actors and dyads); older scores have none until rescored,
    # which the new scorer version asks for anyway.
    score_dyads.create(conn, checkfirst=True)


@migration("0011_sources_alerts")
def _sources_alerts(conn: Connection) -> None:
    # Followed feeds and the alerts sent (tension watch)
    sources.create(conn, checkfirst=True)
    alerts.create(conn, checkfirst=True)


@migration("0012_runs_owner_heartbeat")
def _runs_owner_heartbeat(conn: Connection) -> None:
    # Which process runs an import, and when it last wrote: an interrupted one is detected
    have = {c["name"] for c in inspect(conn).get_columns("ingest_runs")}
    for name in ("owner", "heartbeat_at"):
        if name not in have:
            conn.execute(text(f"ALTER TABLE ingest_runs ADD COLUMN {name} TEXT"))


def migrate(conn: Connection) -> list[str]:
    """Apply the migrations this database has not seen; return their names."""
    schema_migrations.create(conn, checkfirst=True)
    done = set(conn.execute(select(schema_migrations.c.name)).scalars())
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        fn(conn)
        conn.execute(schema_migrations.insert().values(
            name=name, applied_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        applied.append(name)
    return applied


def schema_version(conn: Connection) -> str | None:
    """Name of the last migration applied, or None for an empty database."""
    if not inspect(conn).has_table("schema_migrations"):
        return None
    names = set(conn.execute(select(schema_migrations.c.name)).scalars())
    known = [n for n, _ in MIGRATIONS if n in names]
    return known[-1] if known else None
