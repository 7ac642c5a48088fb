"""Parquet: read in record batches of the mapped columns only (pyarrow is imported lazily)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

from tension.core.records import Article, Problem
from tension.io.readers.base import Reader
from tension.io.readers.registry import register
from tension.io.readers.streams import TooLarge, read_all


def _parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq

    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    if compressed:  # loaded whole: Parquet needs random access
        data, error = read_all(path)
        if error:
            raise ValueError(error)
        return pq.ParquetFile(io.BytesIO(data))
    return pq.ParquetFile(path)


@register("parquet", extensions=(".parquet", ".pq"))
class ParquetReader(Reader):
    """A Parquet file; row numbers are 1-based row indexes. It needs no state of its own:
    the file is opened again for the rows."""

    def probe(self) -> None:
        if os.path.getsize(self.origin) == 0:
            self._fatal = True
            self._file_problem("empty file")
            return
        try:
            parquet = _parquet_file(self.origin)
            columns = list(parquet.schema_arrow.names)
            rows = parquet.metadata.num_rows
        except TooLarge as exc:
            self._fatal = True
            self._file_problem(f"{exc}; gunzip it first: a plain Parquet file is read in batches")
            return
        except Exception as exc:  # pyarrow raises several types for a bad file
            self._fatal = True
            self._file_problem(f"not a readable Parquet file: {exc}")
            return
        self._mapping_problems(columns, raw=", ".join(columns))
        if not self._fatal and rows == 0:
            self._fatal = True
            self._file_problem("no data rows")

    def rows(self) -> Iterator[Article | Problem]:
        parquet = _parquet_file(self.origin)
        columns = list(dict.fromkeys(self.mapping.values()))

        def records() -> Iterator[dict[str, Any]]:
            for batch in parquet.iter_batches(batch_size=10_000, columns=columns):
                yield from batch.to_pylist()

        yield from self._object_rows(records())
