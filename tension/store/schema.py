"""The store's tables, defined once with SQLAlchemy Core so the same code runs on SQLite
and PostgreSQL. A change of shape also needs a migration (`tension.store.migrations`)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ingest_runs = Table(
    "ingest_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("status", String(24), nullable=False),  # running | done | done_with_problems | failed
    Column("paths", Text, nullable=False),  # JSON list
    Column("scorer_version", String(32), nullable=False),
    Column("n_read", Integer, nullable=False, default=0),
    Column("n_added", Integer, nullable=False, default=0),
    Column("n_already", Integer, nullable=False, default=0),
    Column("n_copies", Integer, nullable=False, default=0),
    Column("n_quarantined", Integer, nullable=False, default=0),
    Column("n_scored", Integer, nullable=False, default=0),
    Column("message", Text),
    # Who runs it (host:pid) and when it last wrote: a run whose process is gone shows as
    # interrupted and can be removed (migration 0012).
    Column("owner", Text),
    Column("heartbeat_at", String(32)),
)

ingest_files = Table(
    "ingest_files", metadata,
    # One row per input file fully ingested with given options: a re-import of the
    # same bytes with the same options is answered from here without reading it.
    Column("fingerprint", String(40), primary_key=True),
    Column("origin", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("ingest_runs.id")),
    Column("format", String(16), nullable=False),
    Column("n_read", Integer, nullable=False),
    Column("n_quarantined", Integer, nullable=False),
    Column("completed_at", String(32), nullable=False),
    # The file's bytes alone, and the options as JSON: the same bytes imported again with
    # other options (another --tz) would store every row a second time (migration 0004).
    Column("content_digest", String(40)),
    Column("options", Text),
)

articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Identity for idempotent re-imports: hash of the row's fields plus its
    # occurrence number among identical rows of the same input.
    Column("key", String(40), nullable=False, unique=True),
    Column("date", Date, nullable=False),
    Column("published_at", String(40)),
    Column("source", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("ext_id", Text),
    # Hash of the normalised title and text: what is scored, and what exact copies share.
    Column("content_hash", String(40), nullable=False),
    Column("copy_of", Integer, ForeignKey("articles.id")),
    Column("copy_kind", String(8)),  # exact | near
    Column("minhash", LargeBinary),  # signature for near-duplicate search (long texts only)
    Column("run_id", Integer, ForeignKey("ingest_runs.id")),
    Column("origin", Text),
    Column("row", Integer),
    # Date first: date-range reads, and copies looked up by hash within a few days, with
    # inserts in date order landing together (a hash-first index took random writes).
    Index("ix_articles_date_hash", "date", "content_hash"),
)

article_scores = Table(
    "article_scores", metadata,
    Column("content_hash", String(40), primary_key=True),
    Column("scorer_version", String(32), primary_key=True),
    Column("hostility", Float, nullable=False),
    Column("conciliation", Float, nullable=False),
    Column("tension", Float, nullable=False),
    Column("label", String(16), nullable=False),
    Column("n_sentences", Integer, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: the top sentences with their matches
)

score_terms = Table(
    "score_terms", metadata,
    Column("content_hash", String(40), primary_key=True),
    Column("scorer_version", String(32), primary_key=True),
    Column("term", Text, primary_key=True),
    Column("pole", String(16), primary_key=True),
    Column("category", Text, primary_key=True),  # a word and a lexicon entry may read alike
    Column("contribution", Float, nullable=False),  # signed share of the article's tension
    # a category's sub-index reads one scorer's terms of a few categories (migration 0009)
    Index("ix_score_terms_version_category", "scorer_version", "category"),
)

score_dyads = Table(
    "score_dyads", metadata,
    # Who a text's stance is aimed at (indicators.actors): per (speaker, target), the share of
    # its units aimed there and their hostility and conciliation weighted by that share.
    # speaker "" = the article's own voice (its source's actor, resolved when read), target
    # "" = units that name no other actor, speaker "~" = third-party reporting (read only for
    # a source that speaks for nobody; indicators.actors).
    Column("content_hash", String(40), primary_key=True),
    Column("scorer_version", String(32), primary_key=True),
    Column("speaker", String(8), primary_key=True),
    Column("target", String(8), primary_key=True),
    Column("weight", Float, nullable=False),
    Column("hostility", Float, nullable=False),
    Column("conciliation", Float, nullable=False),
    Column("n_sentences", Integer, nullable=False),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("ingest_runs.id")),
    Column("fingerprint", String(40), nullable=False, unique=True),  # same problem twice = one row
    Column("origin", Text, nullable=False),
    Column("row", Integer),
    Column("field", Text),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

annotations = Table(
    "annotations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),  # equal to start_date for a point annotation
    Column("kind", String(8), nullable=False),  # point | range
    Column("title", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list of strings
    Column("author", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("deleted_at", String(32)),
    Index("ix_annotations_dates", "start_date", "end_date"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("label", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("origin", Text, nullable=False),
    UniqueConstraint("start_date", "end_date", "label", "category", name="uq_events"),
)

settings = Table(
    "settings", metadata,
    # Store-wide choices, e.g. the lexicon this store scores with ("lexicon": its TOML text;
    # absent: the shipped one), so that every command and the dashboard read the same scores.
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

jobs = Table(
    "jobs", metadata,
    # Work the dashboard runs in the background (a file dropped on the page being ingested, a
    # model being trained): kept here, not in one server process's memory, so every worker of
    # a multi-process server can report on them.
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("rows", Integer, nullable=False, default=0),
    Column("summary", Text),  # JSON: the job's result (an ingest summary, a model's figures)
    Column("error", Text),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

labels = Table(
    "labels", metadata,
    # Analysts' labels of sentences, for training the store's model: one per text (the same
    # text labelled again takes the new label).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text_hash", String(40), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("label", String(16), nullable=False),  # hostile | neutral | conciliatory
    Column("author", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

models = Table(
    "models", metadata,
    # Models trained from the base set and this store's labels; settings["model"] names the
    # one in use (absent: the shipped model).
    Column("version", String(32), primary_key=True),
    Column("created_at", String(32), nullable=False),
    Column("model", LargeBinary, nullable=False),  # gzipped JSON (indicators.learned.model)
    Column("report", Text, nullable=False),  # JSON: cross-validated figures, what it was trained on
    Column("n_labels", Integer, nullable=False),
)

sources = Table(
    "sources", metadata,
    # Feeds, folders or files an analyst follows (`tension sources`, `tension watch`): where,
    # how often, and what the last pulls did (the conditional-request validators included).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("location", Text, nullable=False),  # an http(s) URL, a folder or a file
    Column("actor", String(8)),  # the actor it speaks for (see tension.store.actors)
    Column("interval_s", Integer, nullable=False),
    Column("enabled", Integer, nullable=False, default=1),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_pull_at", String(32)),
    Column("last_ok_at", String(32)),
    Column("last_added", Integer, nullable=False, default=0),
    Column("total_added", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),  # in a row: the backoff grows with it
    Column("next_pull_at", String(32)),
    Column("created_at", String(32), nullable=False),
)

alerts = Table(
    "alerts", metadata,
    # One row per spike alerted: the unique key is what stops the same spike alerting twice,
    # across restarts and between watch processes.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("measure", Text, nullable=False),  # the headline ("") or a dyad / measure
    Column("kind", String(16), nullable=False),  # hostility | conciliation
    Column("start_date", Date, nullable=False),  # the spike episode's first day
    Column("peak_date", Date, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: what was sent
    Column("created_at", String(32), nullable=False),
    Column("delivered", Text),  # JSON: per webhook, "ok" or the error
    Column("dismissed_at", String(32)),
    UniqueConstraint("measure", "kind", "start_date", name="uq_alerts"),
)

revisions = Table(
    "revisions", metadata,
    # A counter per topic, bumped by `Store.write()` in the transaction that wrote a table of
    # that topic (see TOPICS): caches key on it, so no writer has to remember anything.
    Column("topic", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
)

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("name", String(64), primary_key=True),
    Column("applied_at", String(32), nullable=False),
)

# The revision topic of each table a cache may depend on; other tables bump no counter.
# "data" covers what the index, spikes and exports are computed from.
TOPICS = {"articles": "data", "article_scores": "data", "score_terms": "data", "settings": "data",
          "score_dyads": "data", "sources": "sources", "alerts": "alerts",
          "annotations": "annotations", "events": "events", "labels": "labels", "models": "labels"}
