"""Which source column feeds which Article field: the candidates, `--map` and the choice."""

from __future__ import annotations

from tension.io.readers.text import listing, norm

FIELDS = ("date", "title", "text", "source", "url", "ext_id")

# Column names we recognise, compared after lower-casing and dropping everything but
# letters and digits (so "pubDate", "publish_date" and "Published At" all match).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "date": ("date", "published", "pubdate", "publishdate", "publishedat", "datetime", "time",
             "timestamp", "publicationdate", "pubdatetime", "createdat", "created", "updated"),
    "title": ("title", "headline", "heading"),
    "text": ("text", "body", "content", "story", "storytext", "article", "summary",
             "description", "articletext", "fulltext"),
    "source": ("source", "domain", "outlet", "publisher", "sourcename", "site"),
    "url": ("url", "link", "href", "permalink", "uri"),
    "ext_id": ("id", "articleid", "guid", "uid", "docid"),
}
_FIELD_ALIASES = {"id": "ext_id", "extid": "ext_id", "ext_id": "ext_id", "link": "url",
                  "body": "text", "headline": "title"}


def parse_mapping(spec: str) -> dict[str, str]:
    """Parse `--map` text: "date=pub,text=body" -> {"date": "pub", "text": "body"}.

    Why strict: a typo in a field name would otherwise silently fall back to
    auto-detection and read the wrong column. Raises ValueError with a clear message.
    """
    if spec is None or not spec.strip():
        raise ValueError("empty --map: use FIELD=COLUMN pairs separated by commas, e.g. date=pubDate")
    result: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"bad --map item '{part}': use FIELD=COLUMN, e.g. date=pubDate")
        key, _, column = part.partition("=")
        key, column = key.strip(), column.strip()
        if not key or not column:
            raise ValueError(f"bad --map item '{part}': both FIELD and COLUMN are needed")
        name = _FIELD_ALIASES.get(key.lower(), key.lower())
        if name not in FIELDS:
            raise ValueError(f"unknown field '{key}' in --map: fields are {', '.join(FIELDS)}")
        if name in result:
            raise ValueError(f"field '{name}' given twice in --map")
        result[name] = column
    if not result:
        raise ValueError("empty --map: use FIELD=COLUMN pairs separated by commas, e.g. date=pubDate")
    return result


def check_mapping(mapping: dict[str, str] | None) -> dict[str, str]:
    """open_reader's `mapping` with field aliases resolved; ValueError names an unknown field."""
    out: dict[str, str] = {}
    for key, column in (mapping or {}).items():
        name = _FIELD_ALIASES.get(str(key).lower(), str(key).lower())
        if name not in FIELDS:
            raise ValueError(f"unknown field '{key}' in the mapping: fields are {', '.join(FIELDS)}")
        out[name] = str(column)
    return out


def resolve_columns(columns: list[str], forced: dict[str, str],
                    need_date: bool = True) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Choose a source column for each of our fields; returns (mapping, [(field, reason)]).
    `need_date=False` (a --date was given) lets a file without a date column through."""
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(norm(column), column)
    present = set(columns)
    mapping: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for name, column in forced.items():
        if column in present:
            mapping[name] = column
        elif norm(column) in by_norm:
            mapping[name] = by_norm[norm(column)]
        else:
            problems.append((name, f"column '{column}' (from --map {name}={column}) not found; "
                                   f"columns found: {listing(columns)}"))
    for name, candidates in CANDIDATES.items():
        if name in mapping or name in forced:
            continue
        used = set(mapping.values())
        for candidate in candidates:
            column = by_norm.get(candidate)
            if column is not None and column not in used:
                mapping[name] = column
                break
    if need_date and "date" not in mapping and "date" not in forced:
        problems.append(("date", f"no date column found; columns found: {listing(columns)}; "
                                 "use --map date=COLUMN"))
    if "title" not in mapping and "text" not in mapping and "title" not in forced and "text" not in forced:
        problems.append(("text", f"no title or text column found; columns found: {listing(columns)}; "
                                 "use --map title=COLUMN or --map text=COLUMN"))
    ordered = {name: mapping[name] for name in FIELDS if name in mapping}
    return ordered, problems
