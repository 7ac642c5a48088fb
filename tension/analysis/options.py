"""View options: what the CLI, the HTTP API and the page may ask of an index, parsed once.

Every option has one name (as the API spells it; the CLI writes `--n-boot` for `n_boot`),
a default and, for numbers, a named limit. The front ends hand over the values they got
(strings, or lists for `source` and `category`) to `parse_view` and get the `Selection` and
`IndexOptions` the library takes, or an `OptionError` naming the option.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from tension.core.dates import UnsupportedDate, check_day
from tension.core.filters import FilterError, parse_filter
from tension.core.selection import Selection

FREQS = {"D": "D", "W": "W-SUN", "M": "M"}  # days, weeks from Monday, months: pandas periods
NORMALIZATIONS = ("seasonal", "raw", "zscore", "base100")
# the default view: the source's calendar taken out where there are years enough (methodology §2)
NORMALIZE_DEFAULT = "seasonal"
SMOOTHERS = ("rolling", "ewm")
MEASURES = ("all", "conflict", "intensity")  # see tension.analysis.dyads


@dataclass(frozen=True)
class Limit:
    """The whole numbers an option takes, and what they count."""

    low: int
    high: int
    unit: str

    def check(self, name: str, value: int) -> int:
        if not self.low <= value <= self.high:
            raise OptionError(name, f"{name} must be a whole number of {self.unit} from {self.low} "
                                    f"to {self.high:,}, not {value}")
        return value


SMOOTH = Limit(1, 365, "periods")
N_BOOT = Limit(0, 2000, "resamples")
SEED = Limit(0, 2**32 - 1, "")


class OptionError(ValueError):
    """A view option that cannot be used; `option` is its name, the message says why."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class IndexOptions:
    """How to aggregate; defaults are what the dashboard and `export` use."""

    start: dt.date | None = None
    end: dt.date | None = None
    freq: str = "D"
    smooth: int = 7
    smoother: str = "rolling"
    center: bool = False
    normalize: str = NORMALIZE_DEFAULT
    base_start: dt.date | None = None
    base_end: dt.date | None = None
    n_boot: int = 200
    ci: float = 0.95
    seed: int = 0

    def check(self) -> IndexOptions:
        """The options, if they can be used together; else OptionError."""
        if self.freq not in FREQS:
            raise OptionError("freq", f"freq must be one of {', '.join(FREQS)}, not {self.freq!r}")
        if self.normalize not in NORMALIZATIONS:
            raise OptionError("normalize", f"normalize must be one of {', '.join(NORMALIZATIONS)}, "
                                           f"not {self.normalize!r}")
        if self.smoother not in SMOOTHERS:
            raise OptionError("smoother", f"smoother must be one of {', '.join(SMOOTHERS)}, "
                                          f"not {self.smoother!r}")
        SMOOTH.check("smooth", self.smooth)
        N_BOOT.check("n_boot", self.n_boot)
        if self.center and self.smoother == "ewm":
            raise OptionError("center", "center applies to the rolling mean only; an EWMA always "
                                        "looks back")
        if not 0 < self.ci < 1:
            raise OptionError("ci", f"ci must be between 0 and 1, not {self.ci}")
        if self.start and self.end and self.start > self.end:
            raise OptionError("from", f"start {self.start} is after end {self.end}")
        if self.base_start and self.base_end and self.base_start > self.base_end:
            raise OptionError("base_from", f"base period start {self.base_start} is after its end "
                                           f"{self.base_end}")
        return self


MARGIN_DAYS = 366  # a view may reach this far beyond the store's first and last article days
MAX_PERIODS = 40_000  # periods one request may compute (about 110 years of days)


def bounded(opts: IndexOptions, first: dt.date | None, last: dt.date | None) -> IndexOptions:
    """`opts` with its dates clamped to the data's days (`first`..`last`) plus MARGIN_DAYS,
    so that a request's work follows the data, not the caller's numbers (a range wholly
    outside them is kept); OptionError when the range holds more than MAX_PERIODS periods."""
    start, end = opts.start, opts.end
    if first is not None and last is not None:
        lo, hi = first - dt.timedelta(days=MARGIN_DAYS), last + dt.timedelta(days=MARGIN_DAYS)
        # a range wholly beyond the data is left as asked: its empty days, bounded by the cap
        if not (start and end and (end < lo or start > hi)):
            start = max(start, lo) if start else start
            end = min(end, hi) if end else end
    if start and end:
        days = (end - start).days + 1
        periods = {"D": days, "W": days // 7 + 2, "M": days // 28 + 2}[opts.freq]
        if periods > MAX_PERIODS:
            raise OptionError("from", f"{start}..{end} holds {periods:,} periods; the limit is "
                                      f"{MAX_PERIODS:,} per request: choose a shorter range, weeks or months")
    return replace(opts, start=start, end=end)


def parse_date(name: str, value: object) -> dt.date | None:
    """A day written as 2018-01-03 (None when empty)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, dt.date):
            return check_day(value.date() if isinstance(value, dt.datetime) else value, name)
        return check_day(dt.date.fromisoformat(str(value)[:32]), name)
    except UnsupportedDate as exc:
        raise OptionError(name, str(exc)) from None
    except ValueError:
        raise OptionError(name, f"'{name}' must be a date like 2018-01-03, not {str(value)[:40]!r}") from None


def parse_int(name: str, value: object, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise OptionError(name, f"'smooth' and 'n_boot' must be whole numbers ('{name}' is "
                                f"{value!r})") from None


def parse_flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise OptionError(name, f"'{name}' must be true or false, not {value!r}")


def _texts(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value if v)


def parse_dyad(text: str) -> tuple[str, str]:
    """'PRK-USA' → ('PRK', 'USA')."""
    a, sep, b = text.strip().upper().partition("-")
    if not sep or not a or not b or a == b or not (a + b).isalnum():
        raise OptionError("dyad", f"'dyad' must be one of {', '.join(MEASURES)} or a dyad written "
                                  f"SOURCE-TARGET with two actor codes, as PRK-USA, not {text!r}")
    return a, b


def parse_measure(value: object) -> str:
    """What the index measures (see `tension.analysis.dyads`): a measure or a dyad 'PRK-USA'."""
    text = str(value or "").strip()
    if not text or text.lower() in MEASURES:
        return text.lower()
    return "-".join(parse_dyad(text))


def parse_view(args: Mapping[str, object]) -> tuple[Selection, IndexOptions]:
    """The selection and index options of a request, the command line or the page.

    `args` maps option names (from, to, freq, smooth, smoother, center, normalize,
    base_from, base_to, n_boot, seed, source, category, filter, dyad) to their values; missing
    ones take their defaults. Raises OptionError naming the first option that cannot be used.
    """
    d = IndexOptions()
    filt = str(args.get("filter") or "")
    try:
        parse_filter(filt)
    except FilterError as exc:
        raise OptionError("filter", str(exc)) from None
    opts = IndexOptions(
        start=parse_date("from", args.get("from")), end=parse_date("to", args.get("to")),
        freq=str(args.get("freq") or d.freq), smooth=parse_int("smooth", args.get("smooth"), d.smooth),
        smoother=str(args.get("smoother") or d.smoother), center=parse_flag("center", args.get("center")),
        normalize=str(args.get("normalize") or d.normalize),
        base_start=parse_date("base_from", args.get("base_from")),
        base_end=parse_date("base_to", args.get("base_to")),
        n_boot=parse_int("n_boot", args.get("n_boot"), d.n_boot),
        seed=SEED.check("seed", parse_int("seed", args.get("seed"), d.seed)))
    opts.check()
    # categories are checked against the store's lexicon when the selection is resolved
    sel = Selection(sources=_texts(args.get("source")), categories=_texts(args.get("category")),
                    filter=filt, dyad=parse_measure(args.get("dyad")))
    return sel, opts
