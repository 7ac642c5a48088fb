"""Text articles: a .txt/.md file, or a folder of them, one article per file.

The date and other fields come from front matter, a sidecar NAME.json, or the file name;
the title, failing those, from the first line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

from tension.core.records import Article, Problem
from tension.io.readers.base import Builder, Reader
from tension.io.readers.columns import resolve_columns
from tension.io.readers.registry import register
from tension.io.readers.streams import CUT_UTF8, TooLarge, decode, read_all
from tension.io.readers.text import as_text, json_kind, short, stem

TEXT_EXTENSIONS = (".txt", ".md", ".markdown")
NO_DATE_TXT = ("no date: add front matter, a sidecar .json or a date in the file name, or give the "
               "day with --date YYYY-MM-DD (on the page: the date beside the upload box)")
_NAME_DATE = (re.compile(r"(?<!\d)(\d{4})([-_.])(\d{2})\2(\d{2})(?!\d)"),
              re.compile(r"(?<!\d)(\d{4})()(\d{2})(\d{2})(?!\d)"))


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split `---\\nkey: value\\n---` front matter from the body (simple YAML-like lines)."""
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    for i in range(1, len(lines)):
        line = lines[i]
        if line.strip() in ("---", "..."):
            return meta, "\n".join(lines[i + 1:])
        key, sep, value = line.partition(":")
        if sep and key.strip():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            meta[key.strip()] = value
    return {}, text  # never closed: not front matter


def _name_date(name: str) -> str | None:
    for pattern in _NAME_DATE:
        match = pattern.search(name)
        if match:
            return f"{match.group(1)}-{match.group(3)}-{match.group(4)}"
    return None


def _txt_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    names = sorted(n for n in os.listdir(path)
                   if n.lower().endswith(TEXT_EXTENSIONS) and not n.startswith(".")
                   and os.path.isfile(os.path.join(path, n)))
    return [os.path.join(path, n) for n in names]


def _sidecar(file_path: str) -> str | None:
    base = os.path.splitext(file_path)[0]
    for candidate in (base + ".json", file_path + ".json"):
        if os.path.isfile(candidate):
            return candidate
    return None


@register("txt", extensions=TEXT_EXTENSIONS, upload=True)
class TextReader(Reader):
    """One text file or a folder of them. Problems name the file (row None), Articles have
    row 1. It needs no state of its own: the folder is listed again for the rows."""

    def probe(self) -> None:
        self.mapping = {"date": "front matter / sidecar .json / file name",
                        "title": "front matter / first line", "text": "file body"}
        if os.path.isdir(self.origin) and not _txt_files(self.origin):
            self._fatal = True
            self._file_problem("no .txt or .md files in the folder")

    def rows(self) -> Iterator[Article | Problem]:
        build = self._builder()
        for file_path in _txt_files(self.origin):
            try:
                yield self._article(build, file_path)
            except OSError as exc:
                yield Problem(file_path, None, None, f"cannot read the file: {exc}")

    def _article(self, build: Builder, file_path: str) -> Article | Problem:
        try:
            data, gz_error = read_all(file_path)
        except TooLarge as exc:
            return Problem(file_path, None, None,
                           f"{exc}; a text file is one article, of at most {self.max_field:,} characters")
        text, _, cut = decode(data, cut=gz_error is not None)
        broken = gz_error or (CUT_UTF8 if cut else None)  # the file was cut short: not stored
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        raw = short(text)
        if not text.strip():
            return Problem(file_path, None, None, broken or "empty file", raw)
        meta, body = _front_matter(text)
        forced = self._forced
        info: dict[str, Any] = {}
        if meta:
            columns, _ = resolve_columns(list(meta), forced)
            info = {name: meta[col] for name, col in columns.items()}
        sidecar = _sidecar(file_path)
        if sidecar is not None:
            try:
                side_text = decode(read_all(sidecar)[0])[0]
                side = json.loads(side_text.lstrip("\ufeff"))
            except TooLarge as exc:
                return Problem(file_path, None, None, f"sidecar {os.path.basename(sidecar)}: {exc}", raw)
            except (ValueError, RecursionError) as exc:
                return Problem(file_path, None, None,
                               f"sidecar {os.path.basename(sidecar)} is not valid JSON: {exc}", raw)
            if not isinstance(side, dict):
                return Problem(file_path, None, None,
                               f"sidecar {os.path.basename(sidecar)} is {json_kind(side)}, not a JSON object",
                               raw)
            columns, _ = resolve_columns(list(side), forced)
            for name, col in columns.items():
                if name not in info or info[name] in ("", None):
                    info[name] = side[col]
        if info.get("date") in (None, ""):
            # The file's own name: an upload's stored copy carries the upload time in its name.
            own = self.name if self.name and file_path == self.origin else os.path.basename(file_path)
            name_date = _name_date(own)
            if name_date is not None:
                info["date"] = name_date
            elif self.default_date is not None:  # the analyst's --date: never today's
                info["date"] = self.default_date
            else:
                return Problem(file_path, None, "date", NO_DATE_TXT, raw)
        title = as_text(info.get("title"))
        body = body.strip("\n")
        if not title:
            lines = body.split("\n")
            first = next((i for i, line in enumerate(lines) if line.strip()), None)
            if first is not None:
                title = lines[first].strip().lstrip("#").strip()
                body = "\n".join(lines[first + 1:])
        folder = os.path.basename(os.path.normpath(self.origin))
        source = info.get("source") or (stem(self.name or self.origin) if os.path.isfile(self.origin)
                                        else folder)
        values = (info.get("date"), title, body, source, info.get("url"), info.get("ext_id"))
        item = build.make(1, values, lambda: raw, origin=file_path)
        if isinstance(item, Problem):
            return Problem(file_path, None, item.field, item.reason, raw)
        if broken:
            return Problem(file_path, None, None, broken, raw)
        return item
