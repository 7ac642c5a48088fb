"""The formats the readers know. Each format module registers its Reader class here, once.

Everything that lists formats or suffixes (FORMATS, the extension map, the CLI's
--format choices, the dashboard's upload box) is derived from this registry, so a new
format is a new module with `@register` and one import in `tension/io/readers/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tension.io.readers.base import Reader

R = TypeVar("R", bound=type[Reader])


@dataclass(frozen=True)
class Format:
    """One registered format.

    `extensions[0]` is the format's own suffix, the one the upload box accepts when
    `upload` is set (and with .gz when `upload_gzip` is set); the others are aliases the
    command line recognises.
    """

    name: str
    reader: type[Reader]
    extensions: tuple[str, ...]
    upload: bool = False
    upload_gzip: bool = False


_FORMATS: dict[str, Format] = {}
_EXTENSIONS: dict[str, str] = {}


def register(name: str, *, extensions: tuple[str, ...], upload: bool = False,
             upload_gzip: bool = False) -> Callable[[R], R]:
    """Class decorator: `name` is read by this Reader subclass; formats keep the order
    in which they are registered (stack decorators to give one class several names:
    the one nearest the class is registered first)."""
    if upload_gzip and not upload:
        raise ValueError(f"format {name!r}: upload_gzip needs upload")

    def add(cls: R) -> R:
        if name in _FORMATS:
            raise ValueError(f"format {name!r} is registered twice")
        taken = [ext for ext in extensions if ext in _EXTENSIONS]
        if taken:
            raise ValueError(f"format {name!r}: extension {taken[0]} already belongs to "
                             f"{_EXTENSIONS[taken[0]]}")
        _FORMATS[name] = Format(name, cls, tuple(extensions), upload, upload_gzip)
        _EXTENSIONS.update(dict.fromkeys(extensions, name))
        return cls

    return add


def formats() -> tuple[Format, ...]:
    """Every registered format, in registration order."""
    return tuple(_FORMATS.values())


def get_format(name: str) -> Format:
    """The registered format `name`; KeyError if there is none."""
    return _FORMATS[name]


def extension_map() -> dict[str, str]:
    """Extension (".csv", ".ndjson", ...) -> format name."""
    return dict(_EXTENSIONS)


def format_of(ext: str) -> str | None:
    """The format an extension (lower case, with its dot, no .gz) names, or None."""
    return _EXTENSIONS.get(ext)


def upload_suffixes() -> tuple[str, ...]:
    """The file name endings the dashboard's upload box accepts: each uploadable format's
    own suffix, then the gzipped ones (".csv", ..., ".csv.gz", ...)."""
    plain = [f.extensions[0] for f in _FORMATS.values() if f.upload]
    gzipped = [f.extensions[0] + ".gz" for f in _FORMATS.values() if f.upload_gzip]
    return (*plain, *gzipped)
