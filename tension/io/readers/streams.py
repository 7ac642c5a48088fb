"""Bytes in: gzip that fails gently, encodings decided once per file, and the load limit.

Every reader gets its bytes from here, so a broken gzip or a file cut inside a character
is noticed the same way for every format and reported after the rows read before it.
"""

from __future__ import annotations

import codecs
import io
import os
import zlib
from typing import Any

CHUNK = 1 << 20
SAMPLE = 1 << 20
# Inputs that are loaded whole (a JSON array, a feed, a text article, a gzipped Parquet file)
# stop at this many decompressed bytes: a small .gz can expand to gigabytes. CSV, TSV and
# JSONL are streamed and have no such cap. Read at call time, so a test can lower it here.
MAX_LOAD_BYTES = 512 * 1024 * 1024
CUT_UTF8 = "the file ends inside a multi-byte UTF-8 character (it was cut short)"
CUT_UTF16 = "the file ends inside a UTF-16 character (it was cut short)"


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode a byte cp1252 leaves undefined (0x81, 0x8d, ...) as Latin-1, so decoding never fails."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start:err.end].decode("latin-1"), err.end


codecs.register_error("tension-latin1", _latin1_fallback)


def errors_for(encoding: str) -> str:
    """The decode error handler for an encoding: U+FFFD for UTF-8/16, Latin-1 for cp1252's holes."""
    return "replace" if encoding in ("utf-8", "utf-16") else "tension-latin1"


class _Gunzip:
    """Incremental gunzip in small input steps, so a broken stream loses as little as possible.

    Why not gzip.GzipFile: it decompresses large blocks and raises before returning
    the data it already had, so a truncated file could lose every row before the cut.
    Handles multi-member files and zero padding like gzip does.
    """

    _STEP = 16 * 1024

    def __init__(self, handle: Any) -> None:
        self._file = handle
        self._inflate = zlib.decompressobj(31)
        self._tail = b""
        self._fresh = True  # before the first byte of a member

    def read(self, size: int) -> bytes:
        """Up to `size` decompressed bytes; b"" at the clean end; raises EOFError or zlib.error."""
        while True:
            if self._tail:
                data, self._tail = self._tail, b""
            else:
                data = self._file.read(self._STEP)
            if not data:
                if self._fresh:
                    return b""
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            if self._fresh:
                data = data.lstrip(b"\x00")
                if not data:
                    continue
                if len(data) < 2 and not self._tail:
                    data += self._file.read(1)
                if not data.startswith(b"\x1f\x8b"):
                    raise zlib.error("data after the end of the compressed stream is not gzip")
                self._fresh = False
            out = self._inflate.decompress(data, size)
            self._tail = self._inflate.unconsumed_tail
            if self._inflate.eof:
                self._tail = self._inflate.unused_data
                self._inflate = zlib.decompressobj(31)
                self._fresh = True
            if out:
                return out


class SafeStream(io.RawIOBase):
    """A binary stream (plain or gunzipped) that ends, instead of raising, at a broken gzip.

    The first error is kept in `error` so the reader can report it after the rows that
    were read before it. Gzip is detected by its magic bytes, not by the file name.
    `source` is a path or an open binary file (which is then closed with the stream).
    """

    def __init__(self, source: str | io.BufferedIOBase | io.BytesIO) -> None:
        super().__init__()
        # A file opened here is closed by close(), so no `with` block can hold it.
        self._file = open(source, "rb") if isinstance(source, str) else source
        self.compressed = self._file.read(2) == b"\x1f\x8b"
        self._file.seek(0)
        self._gunzip = _Gunzip(self._file) if self.compressed else None
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.error is not None:
            return 0
        if self._gunzip is None:
            try:
                return self._file.readinto(buffer)
            except OSError as exc:
                self.error = f"read error: {exc}"
                return 0
        try:
            data = self._gunzip.read(len(buffer))
        except EOFError as exc:
            self.error = f"truncated gzip stream: the compressed data ends early ({exc})"
            return 0
        except zlib.error as exc:
            self.error = f"corrupt gzip stream: {exc}"
            return 0
        except OSError as exc:
            self.error = f"read error: {exc}"
            return 0
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        parts: list[bytes] = []
        while True:
            chunk = self.read(CHUNK)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def read_up_to(self, size: int) -> bytes:
        """Read until `size` bytes or the end (RawIOBase.read stops after one chunk)."""
        parts: list[bytes] = []
        got = 0
        while got < size:
            chunk = self.read(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            super().close()


class TooLarge(Exception):
    """An input to be loaded whole is over MAX_LOAD_BYTES; str() is the start of the reason."""


def _load_limit() -> str:
    limit = MAX_LOAD_BYTES
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit:,} bytes"


def read_all(source: str | io.BytesIO) -> tuple[bytes, str | None]:
    """All (decompressed) bytes of a file, and the gzip error that cut them short, if any.

    Raises TooLarge past MAX_LOAD_BYTES, having read no more than that: a gzip bomb must
    not exhaust the memory before anything can be said about it.
    """
    limit = MAX_LOAD_BYTES
    with SafeStream(source) as stream:
        if not stream.compressed:
            file = stream._file
            size = os.fstat(file.fileno()).st_size if isinstance(source, str) else len(file.getvalue())
            if size > limit:
                raise TooLarge(f"the file is larger than {_load_limit()}")
        data = stream.read_up_to(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"the file decompresses to more than {_load_limit()}")
        return data, stream.error


def bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def cut_utf8(exc: UnicodeDecodeError, size: int) -> bool:
    """The first (so only) UTF-8 error is an incomplete character in the last 3 bytes."""
    return exc.reason == "unexpected end of data" and exc.end == size and size - exc.start <= 3


def decode(data: bytes, cut: bool = False) -> tuple[str, str, bool]:
    """Decode a whole file: BOM, else strict UTF-8, else cp1252 with Latin-1 for its holes.

    Returns (text, encoding, whether the file ends inside a UTF-8 character). A file that is
    valid UTF-8 up to an incomplete character at its very end was cut short (a download that
    stopped, a truncated gzip: `cut`); it stays UTF-8 and the broken tail becomes U+FFFD.
    Only when everything before that tail is ASCII, and nothing says the file was cut, is
    the last byte taken as a cp1252 letter (the text before it is the same in both).
    """
    encoding = bom_encoding(data[:4])
    if encoding is not None:
        return data.decode(encoding, errors=errors_for(encoding)), encoding, False
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError as exc:
        if cut_utf8(exc, len(data)) and (cut or not data[:exc.start].isascii()):
            return data.decode("utf-8", errors="replace"), "utf-8", True
        return data.decode("cp1252", errors="tension-latin1"), "cp1252", False


def stream_encoding(path: str) -> tuple[str, bytes, str | None, bool]:
    """Decide one encoding for a whole file by validating it as UTF-8 in chunks.

    Returns (encoding, the first bytes as a sample, the gzip error met on the way, whether
    the file ends inside a UTF-8 character). Why a full pass: a Latin-1 byte at row 90,000
    must not turn the file into mojibake after 89,999 rows were already decoded as UTF-8
    (or crash the read). A file cut inside its last character stays UTF-8 (see decode).
    """
    with SafeStream(path) as stream:
        sample = stream.read_up_to(SAMPLE)
        encoding = bom_encoding(sample[:4])
        if encoding is not None:
            return encoding, sample, stream.error, False
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        chunk = sample
        valid = True
        ascii_only = True
        while chunk:
            try:
                ascii_only = decoder.decode(chunk).isascii() and ascii_only
            except UnicodeDecodeError:
                valid = False
                break
            chunk = stream.read(CHUNK) or b""
        cut = False
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                # An incomplete character at the very end (the decoder holds at most 3 bytes):
                # the file was cut short, which is not an encoding problem.
                valid = cut = stream.error is not None or not ascii_only
        if valid:
            return "utf-8", sample, stream.error, cut
        # Not UTF-8: stop here; a broken gzip further on is reported by the row stream.
        return "cp1252", sample, stream.error, False


def gzip_error(path: str, known: str | None) -> str | None:
    """The gzip error of a file, reading it through if `known` is None and it is gzip.

    For an input that is fatal before its rows are read (so the row stream cannot report it).
    """
    if known is not None:
        return known
    with SafeStream(path) as stream:
        if not stream.compressed:
            return None
        while stream.read(CHUNK):
            pass
        return stream.error


def text_stream(path: str, encoding: str, newline: str | None) -> tuple[io.TextIOWrapper, SafeStream]:
    """The file as text in `encoding`, and the raw stream whose `error` says if it was cut."""
    raw = SafeStream(path)
    text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding=encoding,
                            errors=errors_for(encoding), newline=newline)
    return text, raw
