"""Actors: who a sentence names, who it is aimed at, and who speaks in it.

An actors file (`actors.toml`, see its header) gives each actor a code (ISO alpha-3 for
states) and the words that name it. `Actors.attribute(sentence)` returns the mentions (for
the evidence, like lexicon matches), the sentence's targets and, for reported speech
("Seoul said …", "Chinese paper praises …"), the actor who speaks. Without reported speech
the speaker is the article's own (its source's actor), which the index fills in: a sentence
is scored once whoever publishes it.

Rules, kept simple enough to predict:
- matching runs over the same folded, stemmed tokens as the lexicon; the longest term wins;
  an exact-case term ("DPRK", "US") matches with a possessive too ("DPRK's");
- a target is every actor named, other than the speaker (the index drops the article's own
  actor too: KCNA naming the DPRK is not a stance towards it);
- a place is no target: a name or capital after "in" that follows an act that happens
  somewhere (held, given, denounced; not a hostile act), with the end, a clause break, a
  function word or a verb after it, says where the act happened, as does the next name of a
  list ("Rally held in S. Korea against U.S. forces" is aimed at the U.S. alone; "Military
  games in S. Korea denounced" is about South Korea's games, "Human rights abused in S. Korea"
  aimed at it);
- reported speech: an actor named among a sentence's first words, then within a few words a
  verb of saying in the active voice ("says", "said", "warns", "praises"; "Japan urged to …"
  and "… accused" are passive: that actor is the target, not the speaker);
- a speaker credited after the text, in KCNA's headline style: an actor among the first
  words of a short tail after the last colon ("… : Chinese paper"); the agent of a passive
  verb of saying, praise or courtesy ("… lauded by Russian organization", "Books donated to
  DPRK by Chinese ministry"; not of a hostile act: "workers killed by U.S. troops" is aimed at
  the U.S.); the sender of a message, letter, gift or floral basket ("Gift to Kim Jong Il from
  Libyan leader");
- third-party reporting: a sentence in the article's own voice that names both sides of a
  conflict dyad ("Tension rises between Pyongyang and Washington") reports that conflict.
  Besides its rows in the article's voice, it gets rows with the speaker THIRD_PARTY for
  those sides (`facing`), weighted so that together they count once per conflict dyad
  reported (`third_party_weight`), as the sentence would count in a side's own voice. They
  are read for a source that speaks for nobody (wire copy, the seed articles) and ignored
  for one that speaks for an actor.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from indicators.tokens import fold, stem, word_spans, words

# Bump when the matching or attribution rules change: it is part of the scorer version, so
# stored targets go stale (and `rescore` redoes them) instead of mixing two rule sets.
# 2: third-party reporting; 3: credited speakers (after a colon, "by", "from"), "DPRK's"; 4: "held in
# S. Korea" is a place, not a target; 5: places only after an act that happens somewhere, lists of places
CODE_VERSION = "5"
THIRD_PARTY = "~"  # the stored speaker of a sentence reporting a conflict in the article's voice
TERM_KEYS = ("names", "capitals", "institutions", "leaders", "vocabulary")
PLACE_KEYS = frozenset(("names", "capitals"))
CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
# An exact-case term: capitals only, at most four letters ("US", "UN", "ROK", "U.S.").
_EXACT = re.compile(r"^(?:[A-Z]\.?){1,4}$")
# Verbs of saying. Present forms are always active; a regular past form is passive when a
# preposition or the end follows ("Japan urged to stop", "U.S. accused of", "... praised").
_SAYING = ("warn state announce declare claim urge accuse denounce condemn slam blast criticize "
           "criticise praise hail welcome call insist stress assert demand reject threaten vow pledge "
           "propose express voice deplore protest charge describe term label dub note report disclose "
           "reveal comment respond reply answer ask appeal say tell").split()


def _forms(verb: str) -> tuple[str, str]:
    third = verb[:-1] + "ies" if verb.endswith("y") and verb[-2] not in "aeiou" else (
        verb + "es" if verb.endswith(("s", "sh", "ch", "x")) else verb + "s")
    past = verb[:-1] + "ied" if verb.endswith("y") and verb[-2] not in "aeiou" else (
        verb + "d" if verb.endswith("e") else verb + ("ged" if verb == "dub" else "ed"))
    return third, past


PRESENT = frozenset(f for v in _SAYING for f in (v, _forms(v)[0]))
PAST = frozenset(_forms(v)[1] for v in _SAYING) | {"labelled", "dubbed", "slammed"}
IRREGULAR_PAST = frozenset(("said", "told"))  # "X said" is never passive in news copy
_PASSIVE_AFTER = frozenset(("to", "of", "for", "as", "by", "over", "in", "on", "upon", "at", "against",
                           "with", "from", "about"))
SPEAKER_WITHIN = 4  # the speaker's name starts among the sentence's first words
VERB_WITHIN = 5  # and a verb of saying follows within this many words of it
# Speakers credited after the text, in KCNA's headline style (module docstring):
CREDIT_WITHIN = 6  # "Claim: Chinese paper": at most this many words after the last colon
AGENT_WITHIN = 3  # and the actor among its first words; "lauded by Russian organization": after "by"
_AGENT_PAST = PAST | {"lauded", "supported", "assailed", "censured", "extolled", "acclaimed", "greeted",
                      "congratulated", "thanked", "blasted"}
# Courtesies whose agent offers them ("Books donated to DPRK by Chinese ministry"); the agent of
# a hostile act ("workers killed by U.S. troops") is what the source aims at, not a speaker.
_COURTESY = frozenset("donated sent given presented marked celebrated commemorated observed hosted laid "
                      "offered granted conferred awarded visited".split())
# "Gift to Kim Jong Il from Libyan leader", "Congratulatory message from Chinese president"
_SENT = re.compile(r"^\W*(?:(?:reply|congratulatory|greeting|sympathetic|condolatory|thank-you|new year|"
                   r"birthday|message of|letter of)\s+)*(?:messages?|letters?|gifts?|floral baskets?|"
                   r"wreaths?|greetings|congratulations|condolences)\b", re.IGNORECASE)


# A place: "in" after an act that happens somewhere (an event, a courtesy, a statement; not a
# hostile act, whose place is what it is aimed at: "human rights abused in S. Korea"), and
# after the name the end, a break, a function word or a verb ("… in S. Korea under fire").
_PLACE_AFTER = (PAST | _AGENT_PAST | _COURTESY | IRREGULAR_PAST | frozenset(
    "held opened staged organized organised formed launched established founded inaugurated published "
    "issued released shown screened exhibited displayed performed convened remembered started begun met "
    "built".split()))
_LIST_GAP = re.compile(r"\s*,?\s*(?:(?:and|or)\s+)?", re.IGNORECASE)  # "Pyongyang and Seoul", "A, B"
_PLACE_FOLLOWERS = _PASSIVE_AFTER | frozenset(("and", "or", "under", "since", "during", "this", "here", "is",
                                               "are", "was", "were", "has", "have", "held", "hold", "holds"))


class Mention(NamedTuple):
    """An actor named in a sentence, with its span (for highlighting); `place`: named where an
    act happened ("held in S. Korea"), which makes no target."""

    code: str
    text: str
    start: int
    end: int
    term: str
    place: bool = False


class Attribution(NamedTuple):
    """What a sentence says about actors: its mentions, who speaks (None: the article's own
    voice) and at whom it is aimed (codes, sorted; the speaker is never among them)."""

    mentions: tuple[Mention, ...]
    speaker: str | None
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Actor:
    code: str
    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class _Term:
    code: str  # "" for an [ignore] term
    term: str
    exact: tuple[str, ...] | None  # the raw words to equal, for exact-case terms
    place: bool = False  # a name or capital: "in <it>" can be where something happens


@dataclass(eq=False)
class Actors:
    """A parsed actors file (see the module docstring)."""

    actors: dict[str, Actor]
    sources: dict[str, str]
    conflict: tuple[tuple[str, str], ...]
    digest: str
    version: str
    _terms: dict[tuple[str, ...], _Term] = field(repr=False)
    _longest: int = field(repr=False)
    _firsts: frozenset[str] = field(repr=False, default=frozenset())

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def key(self) -> str:
        """What the scorer version covers: the rules' version and the file's digest."""
        return f"{CODE_VERSION}:{self.digest[:12]}"

    def source_actor(self, source: str) -> str | None:
        """The actor a source speaks for ([sources], case-insensitive), or None."""
        return self.sources.get(source.strip().casefold())

    def is_conflict(self, a: str, b: str) -> bool:
        return (a, b) in self.conflict or (b, a) in self.conflict

    def find(self, sentence: str) -> list[Mention]:
        """Actor mentions, longest term first at each place, left to right."""
        return self._find(sentence, words(sentence))[0]

    def _find(self, sentence: str, raw: list[str]) -> tuple[list[Mention], list[tuple[int, int]] | None]:
        stems = [stem(fold(w)) for w in raw]
        spans: list[tuple[int, int]] | None = None
        out: list[Mention] = []
        after_place = -1  # the word after the last place: "held in Pyongyang and Seoul" lists two
        i, n = 0, len(raw)
        terms, longest, firsts = self._terms, self._longest, self._firsts
        while i < n:
            if stems[i] not in firsts:  # most words start no term: one lookup, not `longest`
                i += 1
                continue
            found = None
            for k in range(min(longest, n - i), 0, -1):
                t = terms.get(tuple(stems[i:i + k]))
                if t is not None and (t.exact is None or _bare(raw[i:i + k]) == t.exact):
                    found = (t, k)
                    break
            if found is None:
                i += 1
                continue
            t, k = found
            if t.code:
                if spans is None:
                    spans = word_spans(sentence, raw)
                start, end = spans[i][0], spans[i + k - 1][1]
                place = t.place and _is_place(sentence, raw, spans, i, i + k, after_place)
                after_place = i + k if place else after_place
                out.append(Mention(t.code, sentence[start:end], start, end, t.term, place))
            i += k
        return out, spans

    def attribute(self, sentence: str) -> Attribution:
        """Mentions, speaker and targets of one sentence (see the module docstring)."""
        raw = words(sentence)
        mentions, spans = self._find(sentence, raw)
        if not mentions:
            return Attribution((), None, ())
        speaker = _reported_speaker(sentence, mentions, raw, spans) or _credited_speaker(sentence, mentions, raw, spans)
        targets = tuple(sorted({m.code for m in mentions if not m.place} - {speaker}))
        return Attribution(tuple(mentions), speaker, targets)


def _bare(raw: list[str]) -> tuple[str, ...]:
    """Raw words without a possessive 's, for exact-case terms: "DPRK's" is "DPRK"."""
    return tuple(w[:-2] if w[-2:] in ("'s", "’s", "ʼs") else w for w in raw)


def _is_place(sentence: str, raw: list[str], spans: list[tuple[int, int]], i: int, j: int,
              after_place: int = -1) -> bool:
    """Whether words i … j−1 (a name or capital) say where an act happened (`_PLACE_AFTER`):
    "Rally held in S. Korea", "… denounced in S. Korea", or the next of a list of places after
    one ("held in Pyongyang and Seoul", after_place: the word after the last place). "Military
    games in S. Korea denounced" is about South Korea's games (the name qualifies a noun), as
    are "Suicides increased in U.S. army", "… in Japan's name" and "… in U.S.-occupied Korea"."""
    before = [fold(w) for w in raw[max(0, i - 3):i]]
    if before[-2:] == ["in", "the"]:
        before.pop()
    listed = after_place > 0 and _LIST_GAP.fullmatch(sentence[spans[after_place - 1][1]:spans[i][0]])
    if not listed and (len(before) < 2 or before[-1] != "in" or before[-2] not in _PLACE_AFTER):
        return False
    if _bare(raw[j - 1:j]) != (raw[j - 1],):
        return False  # a possessive: "in Japan's name"
    if j >= len(raw):
        return True
    gap = sentence[spans[j - 1][1]:spans[j][0]]
    if "-" in gap:
        return False  # "in U.S.-occupied S. Korea"
    if re.search(r"[,;:()]", gap):
        return True
    w = fold(raw[j])
    return w in _PLACE_FOLLOWERS or w.endswith("ed") or w in PRESENT or w in IRREGULAR_PAST


def facing(named: Iterable[str], conflict: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The actors among `named` (one sentence's targets) whose other side of a conflict dyad
    is named too: the sides of the conflicts the sentence reports (module docstring)."""
    named = set(named)
    return frozenset(x for a, b in conflict if a in named and b in named for x in (a, b))


def third_party_weight(sides: frozenset[str], conflict: Iterable[tuple[str, str]]) -> float:
    """What each THIRD_PARTY row of a sentence weighs, as a share of the sentence: the conflict
    dyads it reports over its sides (one for "X and Y", two for PRK, USA and KOR), so that a
    third party's report counts as much as the same sentence in a side's voice."""
    pairs = sum(1 for a, b in conflict if a in sides and b in sides)
    return pairs / len(sides) if sides else 0.0


def _credited_speaker(sentence: str, mentions: list[Mention], raw: list[str],
                      spans: list[tuple[int, int]]) -> str | None:
    """The actor a sentence credits with its words after the text: "Claim: Chinese paper"
    (a short tail after the last colon: its actor, or none), "Exploits praised by Russian
    organization" (the agent of a passive verb of saying, praise or courtesy), "Gift to Kim
    Jong Il from Libyan leader" (the sender of a message, letter, gift or floral basket)."""
    colon = sentence.rfind(":")
    if colon > 0:
        tail = [k for k, (s, _) in enumerate(spans) if s > colon]
        if 0 < len(tail) <= CREDIT_WITHIN and len(tail) < len(raw):
            return _first_after(mentions, spans, tail[0], AGENT_WITHIN)
    folded = [fold(w) for w in raw]
    for k, w in enumerate(folded):  # "lauded by …", "donated to DPRK by …"
        if w == "by" and any(v in _AGENT_PAST or v in _COURTESY for v in folded[max(0, k - AGENT_WITHIN):k]):
            found = _first_after(mentions, spans, k + 1, AGENT_WITHIN)
            if found:
                return found
    if _SENT.match(sentence):
        at = next((k for k, w in enumerate(raw) if fold(w) == "from"), None)
        if at is not None:
            return _first_after(mentions, spans, at + 1, AGENT_WITHIN)
    return None


def _first_after(mentions: list[Mention], spans: list[tuple[int, int]], k: int, within: int) -> str | None:
    """The actor named first among words k … k+within−1, if any."""
    if k >= len(spans):
        return None
    lo, hi = spans[k][0], spans[min(k + within, len(spans)) - 1][1]
    return next((m.code for m in mentions if lo <= m.start < hi), None)


def _reported_speaker(sentence: str, mentions: list[Mention], raw: list[str],
                      spans: list[tuple[int, int]]) -> str | None:
    first = mentions[0]
    starts = [s for s, _ in spans[:SPEAKER_WITHIN]]
    if first.start not in starts:
        return None
    at = starts.index(first.start)
    if at and fold(raw[at - 1]) in _PASSIVE_AFTER | {"between"}:
        return None  # "talks with south Korea welcomed": the object of a preposition
    after = next(k for k, (_, e) in enumerate(spans) if e >= first.end) + 1
    nxt = mentions[1].start if len(mentions) > 1 else len(sentence)
    for k in range(after, min(len(raw), after + VERB_WITHIN)):
        if spans[k][0] >= nxt or re.search(r"[,;:]", sentence[spans[k - 1][1]:spans[k][0]]):
            return None  # another actor or a clause break comes first
        w = fold(raw[k])
        if w in PRESENT or w in IRREGULAR_PAST:
            return first.code
        if w in PAST:
            follower = fold(raw[k + 1]) if k + 1 < len(raw) else None
            broken = follower is not None and re.search(r"[,;:]", sentence[spans[k][1]:spans[k + 1][0]])
            if follower is None or broken or follower in _PASSIVE_AFTER:
                return None  # "Japan urged to stop", "S. Korean authorities accused"
            return first.code
    return None


def _term_key(term: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    raw = words(term)
    exact = tuple(raw) if _EXACT.match(term.replace(" ", "")) else None
    return tuple(stem(fold(w)) for w in raw), exact


def parse_actors(data: bytes) -> Actors:
    """Build the actors from the bytes of a TOML file (pure: no I/O); a broken file raises
    ValueError naming the actor and the field."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"actors file is not valid UTF-8 TOML: {exc}") from None
    actors: dict[str, Actor] = {}
    terms: dict[tuple[str, ...], _Term] = {}

    def table(key: str) -> dict:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise ValueError(f"actors file: [{key}] must be a table ([{key}] with lines under it), "
                             f"not {type(value).__name__} {value!r}")
        return value

    def listed(value: object, where: str) -> list:
        if not isinstance(value, list):
            raise ValueError(f"actors file, {where} must be a list ([\"…\", \"…\"]), not {value!r}")
        return value

    def add(code: str, term: object, where: str, kind: str = "") -> None:
        if not isinstance(term, str) or not words(term):
            raise ValueError(f"actors file, {where}: a term must be text with words, not {term!r}")
        key, exact = _term_key(term)
        other = terms.get(key)
        if other is not None and other.code != code:
            raise ValueError(f"actors file, {where}: {term!r} already names {other.code or 'nothing'} "
                             f"(as {other.term!r})")
        terms[key] = _Term(code, term, exact, kind in PLACE_KEYS)

    items = doc.get("actor", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValueError("actors file: each actor must be an [[actor]] table (two brackets), "
                         f"not {type(items).__name__}")
    for n, item in enumerate(items, 1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not CODE.match(code):
            raise ValueError(f"actors file, actor #{n}: 'code' must be 2-8 capitals or digits "
                             f"(ISO alpha-3 for states), not {code!r}")
        if code in actors:
            raise ValueError(f"actors file, actor #{n}: code {code} appears twice")
        own: list[str] = []
        for key in TERM_KEYS:
            for term in listed(item.get(key, []), f"actor {code}: {key!r}"):
                add(code, term, f"actor {code}, {key}", key)
                own.append(term)
        actors[code] = Actor(code, str(item.get("name", code)), tuple(own))
    for term in listed(table("ignore").get("terms", []), "[ignore] terms"):
        add("", term, "[ignore]")
    sources = {}
    for name, code in table("sources").items():
        if not isinstance(code, str) or code not in actors:
            raise ValueError(f"actors file, [sources]: {name!r} speaks for {code!r}, which is no actor")
        sources[name.strip().casefold()] = code
    conflict = []
    for pair in listed(table("conflict").get("dyads", []), "[conflict] dyads"):
        a, _, b = str(pair).partition("-")
        if a not in actors or b not in actors or a == b:
            raise ValueError(f"actors file, [conflict]: {pair!r} must be 'A-B' with two known actor codes")
        conflict.append((a, b))
    digest = hashlib.sha256(data).hexdigest()
    return Actors(actors, sources, tuple(conflict), digest, str(doc.get("version", digest[:12])),
                  terms, max((len(k) for k in terms), default=1), frozenset(k[0] for k in terms))


def default_actors_bytes() -> bytes:
    """The actors file shipped with the package."""
    return resources.files("indicators").joinpath("actors.toml").read_bytes()


@lru_cache(maxsize=8)
def load_actors(data: bytes | None = None) -> Actors:
    """Parse (and memoise) an actors file; None means the shipped one."""
    return parse_actors(default_actors_bytes() if data is None else data)
