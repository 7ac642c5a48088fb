"""Actors: mentions, targets, reported speech, the actors file's checks, and the scorer's
dyad rows and evidence."""

from __future__ import annotations

import pytest

from indicators.actors import (
    THIRD_PARTY,
    default_actors_bytes,
    facing,
    load_actors,
    parse_actors,
    third_party_weight,
)
from indicators.learned.scorer import LearnedScorer
from indicators.lexicon import load_lexicon
from indicators.scorers import load_model, scorer_for

ACTORS = load_actors()


def who(sentence: str) -> tuple[str | None, tuple[str, ...]]:
    a = ACTORS.attribute(sentence)
    return a.speaker, a.targets


@pytest.mark.parametrize(("sentence", "speaker", "targets"), [
    ("DPRK Will Never Tolerate Provocations of Lee Myung Bak Group of Traitors", None, ("KOR", "PRK")),
    ("U.S. Imperialists' War Moves Denounced", None, ("USA",)),
    ("Japan Urged to Stop Distorting History", None, ("JPN",)),  # passive: Japan is the target
    ("S. Korean Authorities Accused", None, ("KOR",)),
    ("U.S. warned against its rash actions", None, ("USA",)),
    ("Chinese Paper Praises Kim Jong Il", "CHN", ("PRK",)),  # reported speech moves the speaker
    ("The U.S. Secretary of State warned Pyongyang on Tuesday", "USA", ("PRK",)),
    ("Seoul said it would reopen the hotline", "KOR", ()),
    ("U.S. must not forget lesson from Pueblo incident", None, ("USA",)),  # "note" is no "not"
    ("Japanese imperialists' crimes", None, ("JPN",)),  # longest term: not JPN and USA
    ("Veterans of the Korean War met Beijing's envoy", None, ("CHN",)),  # [ignore]: no actor
    ("Veterans of the Korean War met in Beijing", None, ()),  # where they met: a place, below
    ("Let us talk", None, ()),  # "us" in lower case is no United States
    ("The US and the UN", None, ("UN", "USA")),
    ("Talks with south Korea welcomed, hotline reopened", None, ("KOR",)),  # object, passive
    # a possessive keeps an exact-case name: "DPRK's" is the DPRK
    ("DPRK's Principled Stand Supported", None, ("PRK",)),
    ("U.S.'s Hostile Policy toward DPRK's System Denounced", None, ("PRK", "USA")),
    # a speaker credited after the text: a short tail after the last colon ...
    ("DPRK Never Makes Empty Talk: Mongolian TV", "MNG", ("PRK",)),
    ("U.S. Is Chief Culprit of Tension: Chinese Paper", "CHN", ("USA",)),
    ("Koizumi: no progress without abductees", None, ("JPN",)),  # a long tail: no credit
    ("Nuclear Issue Must Be Settled: Dignitary of Nigeria", None, ()),  # not in the file
    ("Japan Must Apologise: Statement of Organization in Seoul", None, ("JPN", "KOR")),  # named too late
    # ... a passive's agent ...
    ("Songun Politics Lauded by Russian Organization", "RUS", ()),
    ("U.S. Sanctions Racket Denounced by Chinese Paper", "CHN", ("USA",)),
    ("Japan urged by Seoul to apologise", "KOR", ("JPN",)),
    ("Talks welcomed by many in the U.S. and Japan and elsewhere", None, ("JPN", "USA")),  # too far
    ("Books Donated to DPRK by Chinese Ministry of Education", "CHN", ("PRK",)),  # a courtesy
    ("S. Korean Workers Killed by U.S. Troops", None, ("KORCVL", "USA")),  # a hostile act: aimed at
    # where an act happened is no target: "in" after a past participle, then the end, a break,
    # a function word or a verb (South Koreans protesting are not Seoul; methodology §2b)
    ("U.S. War of Aggression Denounced in S. Korea", None, ("USA",)),
    ("Rally Held in S. Korea", None, ()),
    ("Rally Held in S. Korea against U.S. Forces", None, ("USA",)),
    ("Reception Given in China", None, ()),
    ("Missile development launched in the U.S. under fire", None, ()),
    ("Talks held in Beijing, Japan wary", None, ("JPN",)),  # a break after the place
    ("Exhibition Opened in Russia and Mongolia", None, ()),  # a list of places
    ("Talks held in Pyongyang, Seoul and Tokyo", None, ()),
    ("Human Rights Abused in S. Korea", None, ("KOR",)),  # a hostile act: aimed at where it is done
    ("Chongryon Members Harassed in Japan", None, ("JPN", "PRK")),
    ("Rally held in U.S.-occupied S. Korea", None, ("KOR", "USA")),  # the name qualifies a word
    ("Plot Hatched in Cheong Wa Dae", None, ("KOR",)),  # a seat of government is no place
    ("Military Games in S. Korea Denounced", None, ("KOR",)),  # the name qualifies a noun: about it
    ("Gap between Rich and Poor Increases in S. Korea", None, ("KOR",)),  # no participle before
    ("Suicides increased in U.S. army", None, ("USA",)),  # the name qualifies what follows
    ("Aid delivered in Japan's name", None, ("JPN",)),  # a possessive is no place
    ("Exhibition held in Japan's occupied territory", None, ("JPN",)),
    ("Sanctions imposed in the UN Security Council", None, ("UN",)),  # an institution, not a place
    # South Koreans and their groups are not Seoul (CAMEO's KORCVL): the longer name wins
    ("S. Korean Students Stage Anti-U.S. Protest", None, ("KORCVL", "USA")),
    ("South Korean civic groups denounce U.S.", "KORCVL", ("USA",)),
    ("S. Korean People's Struggle Supported", None, ("KORCVL",)),
    ("S. Korean Authorities' Suppression of Students Slammed", None, ("KOR",)),
    # ... or the sender of a message, letter, gift or floral basket
    ("Reply Message to Kim Jong Un from Xi Jinping", "CHN", ("PRK",)),
    ("Floral Basket to Kim Jong Il from Japanese Delegation", "JPN", ("PRK",)),
    ("Troops from the U.S. pulled out of S. Korea", None, ("KOR", "USA")),  # no message: no sender
])
def test_targets_and_speakers(sentence: str, speaker: str | None, targets: tuple[str, ...]) -> None:
    assert who(sentence) == (speaker, targets)


def test_mentions_have_spans_into_the_sentence() -> None:
    s = "Talks between DPRK and south Korean delegations in Seoul"
    mentions = ACTORS.find(s)
    assert [(m.code, m.text) for m in mentions] == [("PRK", "DPRK"), ("KOR", "south Korean"), ("KOR", "Seoul")]
    assert all(s[m.start:m.end] == m.text for m in mentions)


def test_sources_and_conflict_dyads_come_from_the_file() -> None:
    assert ACTORS.source_actor("KCNA") == "PRK" and ACTORS.source_actor(" kcna ") == "PRK"
    assert ACTORS.source_actor("Le Monde") is None
    assert ACTORS.is_conflict("USA", "PRK") and ACTORS.is_conflict("PRK", "KOR")
    assert not ACTORS.is_conflict("PRK", "CHN")


@pytest.mark.parametrize(("text", "message"), [
    (b'[[actor]]\ncode = "north"\n', "'code' must be"),
    (b'[[actor]]\ncode = "PRK"\nnames = ["DPRK"]\n[[actor]]\ncode = "KOR"\nnames = ["dprk"]\n',
     "already names PRK"),
    (b'[[actor]]\ncode = "PRK"\nnames = "DPRK"\n', "must be a list"),
    (b'[sources]\nkcna = "XXX"\n', "which is no actor"),
    (b'[[actor]]\ncode = "PRK"\n[conflict]\ndyads = ["PRK-PRK"]\n', "two known actor codes"),
    (b'not toml [', "not valid UTF-8 TOML"),
    # a table or list of the wrong shape is named, not a traceback
    (b'conflict = ["PRK-USA"]\n', r"\[conflict\] must be a table"),
    (b'sources = "KCNA"\n', r"\[sources\] must be a table"),
    (b'ignore = ["Korean War"]\n', r"\[ignore\] must be a table"),
    (b'[[actor]]\ncode = "PRK"\n[conflict]\ndyads = "PRK-USA"\n', r"\[conflict\] dyads must be a list"),
    (b'[ignore]\nterms = "Korean War"\n', r"\[ignore\] terms must be a list"),
    (b'[actor]\ncode = "PRK"\n', r"\[\[actor\]\] table \(two brackets\)"),
    (b'[[actor]]\ncode = "PRK"\n[sources]\nkcna = 3\n', "which is no actor"),
])
def test_a_broken_actors_file_says_what_is_wrong(text: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_actors(text)


def test_another_conflict_is_another_actors_file() -> None:
    other = parse_actors(b'[sources]\n"le monde" = "FRA"\n[conflict]\ndyads = ["FRA-DEU"]\n'
                         b'[[actor]]\ncode = "FRA"\nnames = ["France", "French"]\ncapitals = ["Paris"]\n'
                         b'[[actor]]\ncode = "DEU"\nnames = ["Germany", "German"]\ncapitals = ["Berlin"]\n')
    assert other.attribute("Paris warns Berlin").speaker == "FRA"
    assert other.attribute("Paris warns Berlin").targets == ("DEU",)
    assert other.attribute("DPRK slams U.S.").targets == ()  # nothing Korean is built in
    scorer = LearnedScorer(load_lexicon(), load_model(), actors=other)
    assert scorer.version != scorer_for().version  # the actors file is part of the version


def test_the_scorer_keeps_dyads_that_add_up_and_shows_actors_in_the_evidence() -> None:
    scorer = scorer_for()
    s = scorer.score_article("DPRK Slams U.S. Warmongers", "China and the DPRK pledged friendship. "
                             "The harvest was good.")
    dyads = s.dyads
    # the title is reported speech of the DPRK (its own voice here, named)
    assert set(dyads) == {("PRK", "USA"), ("", "PRK"), ("", "CHN"), ("", "")}
    # each unit's weight lands once per target: the untargeted and targeted weights cover all units
    title_w = dyads[("PRK", "USA")][0]
    assert title_w == pytest.approx(2 / 4)  # the title weighs two sentences, of four units
    assert dyads[("", "")][0] == pytest.approx(1 / 4)
    for weight, hostility, conciliation, n in dyads.values():
        assert 0 <= hostility <= weight + 1e-6 and 0 <= conciliation <= weight + 1e-6 and n >= 1
    assert dyads[("PRK", "USA")][1] > dyads[("PRK", "USA")][2]  # hostile at the U.S.
    assert dyads[("", "CHN")][2] > dyads[("", "CHN")][1]  # friendly to China
    top = s.evidence()
    sent = next(e for e in top if e["part"] == "title")
    assert sent["targets"] == ["USA"] and sent["speaker"] == "PRK"
    assert [a["code"] for a in sent["actors"]] == ["PRK", "USA"]


def test_the_shipped_file_parses_and_has_iso_codes_for_states() -> None:
    actors = parse_actors(default_actors_bytes())
    for code in ("PRK", "KOR", "USA", "JPN", "CHN", "RUS"):
        assert code in actors.actors and len(code) == 3
    assert actors.conflict == (("PRK", "USA"), ("PRK", "KOR"), ("PRK", "JPN"))


ARTICLE = ("Puppets slammed", "South Korean puppets' confrontation moves were slammed. Seoul said "
           "it welcomed the talks. The U.S. imperialists staged war drills against the DPRK. "
           "China and the DPRK pledged friendship.")


def test_aimed_terms_add_up_to_the_dyad_rows_they_explain() -> None:
    """A measure's word-level explanation: the terms of the units aimed across the kept
    (speaker, target) pairs add up to what the stored dyad rows give that measure."""
    scorer = scorer_for()
    rows = scorer.score_article(*ARTICLE).dyads
    conflict = {p for a, b in scorer.actors.conflict for p in ((a, b), (b, a))}

    def resolved(own: str):  # the dyad rows as the index reads them: "" speaks as the source
        out: dict = {}
        for (s, t), v in rows.items():
            if s == THIRD_PARTY and own:
                continue  # a third party's rows are read for a source that speaks for nobody
            s = s or own
            if t and t != s:
                out[(s, t)] = [a + b for a, b in zip(out.get((s, t), (0, 0, 0, 0)), v, strict=True)]
        return out

    aimed = resolved("PRK")
    [intensity] = scorer.aimed_terms([(*ARTICLE, "PRK")], lambda s, t: (s, t) in conflict, tone=False)
    assert sum(intensity.values()) == pytest.approx(
        sum(h - c for k, (_, h, c, _) in aimed.items() if k in conflict), abs=1e-5)
    [dyad] = scorer.aimed_terms([(*ARTICLE, "PRK")], lambda s, t: (s, t) == ("PRK", "CHN"), tone=True)
    w, h, c, _ = aimed[("PRK", "CHN")]
    assert sum(dyad.values()) == pytest.approx((h - c) / w, abs=1e-5)
    assert any(term == "friendship" for term, _, _ in dyad)
    assert not any(term == "friendship" for term, _, _ in intensity)
    # a source that speaks for nobody aims nothing across a dyad outside reported speech
    [nobody] = scorer.aimed_terms([(*ARTICLE, "")], lambda s, t: (s, t) in conflict, tone=False)
    assert sum(nobody.values()) == pytest.approx(
        sum(h - c for k, (_, h, c, _) in resolved("").items() if k in conflict), abs=1e-5)
    # ... unless a sentence names both sides in its own voice: third-party reporting
    assert {k for k in rows if k[0] == THIRD_PARTY} == {(THIRD_PARTY, "PRK"), (THIRD_PARTY, "USA")}
    [third] = scorer.aimed_terms([(*ARTICLE, "")], lambda s, t: (s, t) in conflict, tone=False,
                                 third_party=scorer.actors.conflict)
    expected = sum(h - c for k, (_, h, c, _) in resolved("").items() if k in conflict or k[0] == THIRD_PARTY)
    assert expected > 0.1  # the war drills, not the friendship with China
    assert sum(third.values()) == pytest.approx(expected, abs=1e-5)
    assert "friendship" not in {term for term, _, _ in third}


def test_a_third_party_report_counts_as_much_as_the_same_sentence_in_a_sides_voice() -> None:
    scorer = scorer_for()
    conflict = scorer.actors.conflict
    assert third_party_weight(frozenset({"PRK", "USA"}), conflict) == 0.5  # one dyad, two rows
    assert third_party_weight(frozenset({"PRK", "USA", "KOR"}), conflict) == pytest.approx(2 / 3)
    for title in ("Tension rises between North Korea and the United States over missile test",
                  "North Korea, the United States and south Korea agree to resume peace talks"):
        rows = scorer.score_article(title, "").dyads
        third = sum(h - c for (s, _), (_, h, c, _) in rows.items() if s == THIRD_PARTY)
        voiced = sum(h - c for (s, t), (_, h, c, _) in rows.items() if s == "" and t != "PRK")
        # once per dyad reported, as KCNA's own voice would count it (not once per side)
        assert third == pytest.approx(voiced, abs=1e-5) and third != 0
        assert sum(w for (s, _), (w, _, _, _) in rows.items() if s == "") == pytest.approx(
            len([k for k in rows if k[0] == ""]))  # the article's own rows are as before


def test_facing_needs_both_sides_of_a_conflict_dyad() -> None:
    conflict = (("PRK", "USA"), ("PRK", "KOR"))
    assert facing(["PRK", "USA", "CHN"], conflict) == {"PRK", "USA"}
    assert facing(["PRK", "CHN"], conflict) == set()
    assert facing(["USA", "KOR"], conflict) == set()  # allies: no conflict between them
    assert facing([], conflict) == set()
