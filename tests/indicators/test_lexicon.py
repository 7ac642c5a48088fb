"""The lexicon matcher: phrases, inflections, case, Unicode, modifiers; and parse_lexicon."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.combine import Scorer
from indicators.lexicon import POLES, Match, load_lexicon, parse_lexicon
from indicators.tokens import word_spans, words

LEX = load_lexicon()
HEDGE = LEX.modifiers.hedge_factor
REFUSAL = LEX.modifiers.refusal_factor


def find(sentence: str) -> list[Match]:
    matches = LEX.find(sentence)
    for m in matches:  # every match's span points at its text in the sentence
        assert sentence[m.start : m.end] == m.text
    return matches


def one(sentence: str, term: str) -> Match:
    """The single match of `term` in `sentence`."""
    hits = [m for m in find(sentence) if m.term == term]
    assert len(hits) == 1, (sentence, term, find(sentence))
    return hits[0]


def terms(sentence: str) -> list[str]:
    return [m.term for m in find(sentence)]


# ---------------------------------------------------------------- the shipped lexicon


def test_shipped_lexicon_is_well_formed():
    assert LEX.entries
    assert all(e.pole in POLES for e in LEX.entries)
    assert all(0 < e.weight <= 1 for e in LEX.entries)
    poles = set(LEX.categories().values())
    assert {"hostility", "conciliation", "neutral"} <= poles
    # The categories the issue names exist (by their pole).
    cats = LEX.categories()
    for name in ("threats", "military_action", "sanctions", "condemnation", "war_nuclear"):
        assert cats[name] == "hostility"
    for name in ("talks_dialogue", "agreements_summits", "cooperation_aid_exchanges",
                 "de_escalation", "friendship_courtesy"):
        assert cats[name] == "conciliation"
    assert 0 < HEDGE < 1 and 0 < REFUSAL <= 1


def test_no_match_in_a_plain_sentence():
    assert find("The weather in Pyongyang was mild and the rain stopped.") == []


def test_domestic_sites_are_neutral_matches_that_score_nothing():
    # features for the learned scorer ("toured a textile mill" is no stance), nothing for the lexicon scorer
    found = find("The delegation toured a textile mill and the harvest was good.")
    sites = [(m.term, m.effective) for m in found if m.category == "domestic_sites"]
    assert sites == [("tour", 0.0), ("textile", 0.0), ("mill", 0.0), ("harvest", 0.0)]
    assert find("") == []


# ---------------------------------------------------------------- phrases


@pytest.mark.parametrize(
    ("sentence", "term", "text", "pole"),
    [
        ("Trump has threatened Pyongyang with fire and fury.", "fire and fury", "fire and fury",
         "hostility"),
        ("He has a bigger nuclear button than Kim does.", "nuclear button", "nuclear button",
         "hostility"),
        ("Both sides agreed to sit down for talks next week.", "sit down for talks",
         "sit down for talks", "conciliation"),
        ("Seoul extended an olive branch to the North.", "olive branch", "olive branch",
         "conciliation"),
    ],
)
def test_multi_word_phrases(sentence, term, text, pole):
    m = one(sentence, term)
    assert (m.text, m.pole, m.modifiers) == (text, pole, ())
    assert m.effective == m.weight > 0


def test_phrase_words_alone_do_not_match_the_phrase():
    assert "fire and fury" not in terms("The fire spread and fury grew.")
    assert "nuclear button" not in terms("The nuclear plant has a red button.")
    assert "olive branch" not in terms("An olive tree lost a branch.")


def test_phrase_with_inflected_words():
    assert one("They are sitting down for talks.", "sit down for talks").text == "sitting down for talks"
    assert one("Seoul offered olive branches.", "olive branch").text == "olive branches"


# ---------------------------------------------------------------- inflections


@pytest.mark.parametrize("word", ["threaten", "threatens", "threatened", "threatening", "Threatened"])
def test_inflections_of_threaten(word):
    m = one(f"The regime {word} its neighbour.", "threaten")
    assert m.text == word
    assert m.pole == "hostility"


@pytest.mark.parametrize("word", ["talks", "talking", "Talks", "talk"])
def test_inflections_of_talks(word):
    m = one(f"The two sides are {word} in Panmunjom.", "talks")
    assert (m.text, m.pole) == (word, "conciliation")


@pytest.mark.parametrize("word", ["sanction", "sanctions", "sanctioned", "condemns", "condemned",
                                  "condemning", "attacks", "attacked", "attacking"])
def test_inflections_of_other_verbs_and_nouns(word):
    matches = find(f"The country {word} them.")
    assert len(matches) == 1 and matches[0].text == word and matches[0].pole == "hostility"


def test_agreed_matches_agree():
    assert one("The two sides agreed to hold a summit.", "agree").text == "agreed"


@pytest.mark.parametrize("sentence", ["The summit was cancelled.", "They rebuffed the offer of talks."])
def test_refusal_with_doubled_consonant_inflection(sentence):
    matches = [m for m in find(sentence) if m.category in ("agreements_summits", "talks_dialogue")]
    assert matches and all(m.pole == "hostility" and "refused" in m.modifiers for m in matches)


def test_american_spelling_of_cancelled_is_a_refusal():
    m = one("The summit was canceled.", "summit")
    assert (m.pole, m.modifiers) == ("hostility", ("refused",))


# ---------------------------------------------------------------- case and Unicode


@pytest.mark.parametrize("text", ["FIRE AND FURY", "Fire And Fury", "fire and FURY"])
def test_case_is_ignored(text):
    m = one(f"He promised {text}.", "fire and fury")
    assert m.text == text


@pytest.mark.parametrize(
    "dash", ["-", "\u2011", "\u2010", "\u2013", "\u2014", "\u2212", " "],
    ids=["hyphen-minus", "non-breaking hyphen", "hyphen", "en dash", "em dash", "minus", "space"],
)
def test_hyphens_and_dashes_join_olive_branch(dash):
    sentence = f"These olive{dash}branch overtures mark a milestone."
    m = one(sentence, "olive branch")
    assert m.text == f"olive{dash}branch"
    assert m.pole == "conciliation"


@pytest.mark.parametrize("quoted", ["“nuclear button”", '"nuclear button"', "‘nuclear button’",
                                    "«nuclear button»", "„nuclear button“"])
def test_quotes_around_a_phrase(quoted):
    m = one(f"He has a bigger and more powerful {quoted} than Kim does.", "nuclear button")
    assert m.text == "nuclear button"


def test_curly_apostrophe_possessive():
    m = one("The DPRK’s threat was real.", "threat")
    assert m.pole == "hostility"
    assert one("The DPRK's threat was real.", "threat").effective == m.effective


def test_fullwidth_letters_are_normalised():
    m = one("ＴＨＲＥＡＴ of war", "threat")
    assert m.text == "ＴＨＲＥＡＴ"


# ---------------------------------------------------------------- prefix wildcards and longest match


@pytest.mark.parametrize("word", ["warmonger", "warmongers", "Warmongering"])
def test_prefix_wildcard(word):
    m = one(f"The {word} staged drills.", "warmonger*")
    assert m.text == word


def test_prefix_wildcard_needs_the_whole_prefix():
    assert "warmonger*" not in terms("The war mongrel barked.")
    assert one("The annihilation of the enemy.", "annihilat*").text == "annihilation"


@pytest.mark.parametrize(
    ("sentence", "term", "pole"),
    [
        ("They staged a nuclear war rehearsal.", "nuclear war rehearsal", "hostility"),
        ("They tested an intercontinental ballistic missile.", "intercontinental ballistic missile",
         "hostility"),
        ("The move will ease tension on the peninsula.", "ease tension", "conciliation"),
        ("They signed a peace treaty.", "peace treaty", "conciliation"),
    ],
)
def test_longest_match_wins(sentence, term, pole):
    matches = find(sentence)
    assert [m.term for m in matches] == [term]
    assert matches[0].pole == pole


def test_matches_are_ordered_and_non_overlapping():
    sentence = "After the nuclear test, talks on a peace treaty stalled and sanctions followed."
    matches = find(sentence)
    assert len(matches) >= 3
    for a, b in zip(matches, matches[1:], strict=False):
        assert a.end <= b.start


# ---------------------------------------------------------------- negation


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("There is no threat.", "threat"),
        ("He is not hostile.", "hostile"),
        ("They did not threaten anyone.", "threaten"),
        ("It poses no immediate threat.", "threat"),
        ("They held an anti-war rally.", "war"),
        ("The rally was never hostile.", "hostile"),
    ],
)
def test_negation_cancels_the_match(sentence, term):
    m = one(sentence, term)
    assert m.effective == 0.0
    assert m.modifiers == ("negated",)
    assert m.weight > 0  # the entry's own weight is kept for the evidence


def test_negator_too_far_away_does_not_cancel():
    m = one("There is no sign yet of a threat.", "threat")
    assert m.effective == m.weight and m.modifiers == ()


def test_not_only_is_no_negation():
    m = one("They not only condemned the drills but also protested.", "condemn")
    assert m.effective == m.weight and "negated" not in m.modifiers


def test_negated_talks_count_for_nothing():
    m = one("There will be no talks.", "talks")
    assert (m.pole, m.effective, m.modifiers) == ("conciliation", 0.0, ("negated",))


# ---------------------------------------------------------------- refusal


@pytest.mark.parametrize(
    "sentence",
    [
        "Pyongyang rejected talks.",
        "The North refused to hold talks.",
        "The talks were called off.",
        "The talks broke down on Monday.",
        "They broke off talks.",
        "Seoul suspended the talks.",
        "The regime no longer seeks talks.",
    ],
)
def test_refused_talks_count_as_hostility(sentence):
    m = one(sentence, "talks")
    assert m.pole == "hostility"
    assert m.modifiers[0] == "refused"
    assert math.isclose(m.effective, m.weight * REFUSAL)


def test_refused_agreement_counts_as_hostility():
    m = one("The North violated the agreement.", "agreement")
    assert (m.pole, m.modifiers) == ("hostility", ("refused",))


def test_refusal_does_not_touch_hostile_terms():
    m = one("They rejected the threat.", "threat")
    assert (m.pole, m.effective, m.modifiers) == ("hostility", m.weight, ())


def test_refused_talks_make_a_hostile_sentence():
    for sentence in ("Pyongyang rejected talks.", "The talks were called off."):
        s = Scorer().score_sentence(sentence)
        assert s.conciliation == 0.0 and s.hostility > 0 and s.label != "conciliatory"


@pytest.mark.parametrize("sentence", ["They did not reject talks.", "The talks did not collapse."])
def test_negated_refusal_is_not_a_refusal(sentence):
    m = one(sentence, "talks")
    assert m.pole == "conciliation"
    assert "refused" not in m.modifiers


@pytest.mark.parametrize(
    ("sentence", "term"),
    [("The two states signed a non-aggression pact.", "pact"), ("Crowds joined an anti-war peace rally.", "peace")],
)
def test_modifier_of_one_term_does_not_reach_the_next(sentence, term):
    m = one(sentence, term)
    assert (m.pole, m.modifiers) == ("conciliation", ())
    assert m.effective == m.weight


# ---------------------------------------------------------------- hedging


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("The North might attack.", "attack"),
        ("The army could attack the island.", "attack"),
        ("It would possibly threaten the region.", "threaten"),
        ("Officials could meet next week.", "meet"),
    ],
)
def test_hedging_damps_by_the_hedge_factor(sentence, term):
    m = one(sentence, term)
    assert m.modifiers == ("hedged",)
    assert math.isclose(m.effective, round(m.weight * HEDGE, 6))
    assert m.pole == LEX.categories()[m.category]


def test_hedged_sentence_scores_lower_than_unhedged():
    s = Scorer()
    assert 0 < s.score_sentence("The North might attack.").hostility < s.score_sentence(
        "The North will attack.").hostility


def test_hedge_and_negation_combine_to_nothing():
    m = one("They might not attack.", "attack")
    assert m.effective == 0.0 and "negated" in m.modifiers


def test_hedged_refusal_is_damped_twice():
    m = one("They could reject the talks.", "talks")
    assert m.modifiers == ("refused", "hedged")
    assert math.isclose(m.effective, round(m.weight * REFUSAL * HEDGE, 6))


# ---------------------------------------------------------------- clause punctuation


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("No, they will attack.", "attack"),
        ("Not now; they will attack later.", "attack"),
        ("If it rains, they will attack.", "attack"),
        ("They could (as always) attack.", "attack"),
        ("They might — everyone knows — attack.", "attack"),
        ("They rejected the proposal; talks will continue.", "talks"),
        ("The other offer was rejected - talks will continue.", "talks"),
    ],
)
def test_clause_punctuation_stops_modifiers(sentence, term):
    m = one(sentence, term)
    assert m.modifiers == ()
    assert m.effective == m.weight
    assert m.pole == LEX.categories()[m.category]


def test_same_words_without_the_comma_are_modified():
    assert one("If they attack.", "attack").modifiers == ("hedged",)
    assert one("They rejected talks.", "talks").modifiers == ("refused",)


# ---------------------------------------------------------------- neutral names


@pytest.mark.parametrize(
    ("sentence", "term"),
    [
        ("World War II ended in 1945.", "World War"),
        ("He is a war hero.", "war hero"),
        ("The war veterans gathered.", "war veteran"),
        ("The exchange rate fell.", "exchange rate"),
        ("They made small talk.", "small talk"),
    ],
)
def test_neutral_names_claim_their_words(sentence, term):
    matches = find(sentence)
    assert [m.term for m in matches] == [term]
    assert matches[0].pole == "neutral"
    assert matches[0].effective == 0.0
    assert Scorer().score_sentence(sentence).tension == 0.0


def test_war_alone_is_hostile():
    m = one("The Koreas officially remain at war.", "war")
    assert m.pole == "hostility" and m.effective > 0


def test_world_war_is_a_neutral_name_and_nothing_is_korea_specific():
    assert [m.pole for m in find("Six decades after the World War ended.")] == ["neutral"]
    # The lexicon stays general: a Korea-specific name is not an entry, so "war" fires.
    assert [m.term for m in find("Six decades after the Korean War ended.")] == ["war"]


# ---------------------------------------------------------------- parse_lexicon


def toml(*categories: str, modifiers: str = "", version: str = "") -> bytes:
    head = f'version = "{version}"\n' if version else ""
    mods = f"[modifiers]\n{modifiers}\n" if modifiers else ""
    return (head + mods + "\n".join(categories)).encode()


def category(name="threats", pole="hostility", weight="0.7", terms='["threat"]') -> str:
    return f'[[category]]\nname = "{name}"\npole = "{pole}"\nweight = {weight}\nterms = {terms}\n'


SMALL = toml(
    category(),
    category("talks", "conciliation", "0.75", '["talks", "olive branch", { term = "meet", weight = 0.2 }]'),
    category("names", "neutral", "1.0", '["small talk"]'),
    modifiers='negators = ["no"]\nrefusals = ["reject", "call off"]\nhedges = ["might"]\nhedge_factor = 0.5',
)


def test_parse_small_lexicon():
    lex = parse_lexicon(SMALL)
    assert {e.term: (e.pole, e.weight) for e in lex.entries} == {
        "threat": ("hostility", 0.7),
        "talks": ("conciliation", 0.75),
        "olive branch": ("conciliation", 0.75),
        "meet": ("conciliation", 0.2),
        "small talk": ("neutral", 1.0),
    }
    assert lex.categories() == {"threats": "hostility", "talks": "conciliation", "names": "neutral"}
    assert [(m.term, m.effective) for m in lex.find("No threat, but an OLIVE-BRANCH.")] == [
        ("threat", 0.0), ("olive branch", 0.75)]
    assert [(m.pole, m.modifiers) for m in lex.find("The talks were called off.")] == [
        ("hostility", ("refused",))]
    # hedge_factor comes from the file
    assert lex.find("They might meet.")[0].effective == pytest.approx(0.1)
    # default settings where the file is silent
    assert lex.modifiers.window == 4 and lex.modifiers.refusal_factor == 0.7


def test_parse_lexicon_is_independent_of_the_shipped_one():
    lex = parse_lexicon(SMALL)
    assert lex.find("fire and fury") == []
    s = Scorer(lex).score_sentence("A threat.")
    # one match: hostility is its weight, scaled by VADER (negative compound raises it)
    assert s.vader < 0
    assert s.hostility == pytest.approx(0.7 * (1 - 0.25 * s.vader), abs=1e-6)


@pytest.mark.parametrize("weight", ["0", "-0.3", "1.5", "nan", "inf"])
def test_category_weight_out_of_range_is_rejected(weight):
    with pytest.raises(ValueError, match=r"weight must be in \(0, 1\]"):
        parse_lexicon(toml(category(weight=weight)))


@pytest.mark.parametrize("weight", ["0", "1.01", "-1"])
def test_term_weight_out_of_range_is_rejected(weight):
    data = toml(category(terms=f'[{{ term = "threat", weight = {weight} }}]'))
    with pytest.raises(ValueError, match=r"lexicon term 'threat' in 'threats': weight must be in \(0, 1\]"):
        parse_lexicon(data)


def test_weight_of_exactly_one_is_allowed():
    assert parse_lexicon(toml(category(weight="1"))).entries[0].weight == 1.0


def test_duplicate_term_is_rejected_with_both_names():
    data = toml(category(terms='["threat", "threats"]'))
    with pytest.raises(ValueError, match=r"'threats' in 'threats' duplicates 'threat' in 'threats'"):
        parse_lexicon(data)


def test_duplicate_across_categories_is_rejected():
    data = toml(category(), category("other", "conciliation", "0.5", '["THREAT"]'))
    with pytest.raises(ValueError, match=r"'THREAT' in 'other' duplicates 'threat' in 'threats'"):
        parse_lexicon(data)


def test_hyphenated_spelling_is_a_duplicate_of_the_spaced_one():
    data = toml(category("talks", "conciliation", "0.7", '["olive branch", "olive-branch"]'))
    with pytest.raises(ValueError, match="duplicates 'olive branch'"):
        parse_lexicon(data)


def test_unknown_pole_is_rejected():
    with pytest.raises(ValueError, match=r"category 'threats' .*: pole must be one of .* not 'angry'"):
        parse_lexicon(toml(category(pole="angry")))


def test_term_without_words_is_rejected():
    with pytest.raises(ValueError, match="has no words"):
        parse_lexicon(toml(category(terms='["--"]')))


def test_invalid_toml_is_a_value_error():
    with pytest.raises(ValueError):
        parse_lexicon(b"[[category]\nname =")


@pytest.mark.parametrize(
    "data",
    [
        toml(category(terms='["nuclear *"]')),
        b'[[category]]\nname = "x"\nweight = 0.5\nterms = ["threat"]\n',
        toml(category(terms='[{ term = "threat" }]')),
    ],
    ids=["lone-star", "missing-pole", "term-without-weight"],
)
def test_malformed_entry_gives_a_clear_value_error(data):
    with pytest.raises(ValueError, match="threat|nuclear"):
        parse_lexicon(data)


def test_modifier_factors_are_validated():
    with pytest.raises(ValueError, match="hedge_factor"):
        parse_lexicon(toml(category(), modifiers='hedges = ["might"]\nhedge_factor = 3'))


def test_changed_lexicon_changes_digest_and_scorer_version():
    a = parse_lexicon(toml(category(), version="1"))
    a_again = parse_lexicon(toml(category(), version="1"))
    b = parse_lexicon(toml(category(weight="0.8"), version="1"))  # same version string, new weight
    c = parse_lexicon(toml(category(terms='["threat", "menace"]'), version="1"))
    assert a.digest == a_again.digest
    assert len({a.digest, b.digest, c.digest}) == 3
    versions = {Scorer(x).version for x in (a, b, c)}
    assert len(versions) == 3
    assert Scorer(a).version == Scorer(a_again).version
    assert Scorer(a).version != Scorer().version


def test_scorer_version_depends_on_settings():
    assert Scorer().version == Scorer().version
    assert Scorer(threshold=0.3).version != Scorer().version
    assert Scorer(title_weight=1.0).version != Scorer().version


def test_load_lexicon_shipped_and_from_bytes():
    assert load_lexicon() is LEX
    assert load_lexicon(SMALL).digest == parse_lexicon(SMALL).digest


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1_ '’ʼ-,.\n\tÉé—") + ["ǅ", "ß", "İ"]), max_size=40)
       | st.text(max_size=40))
def test_word_spans_from_the_found_words_equal_the_pattern_spans(text: str) -> None:
    """The matcher locates words by looking each one up after the previous one; that must give
    exactly the spans the pattern gives, whatever lies between the words."""
    found = words(text)
    assert word_spans(text, found) == word_spans(text)
    assert [text[a:b] for a, b in word_spans(text)] == found
