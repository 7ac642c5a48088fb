"""Sentence splitting: abbreviations, quotes, KCNA's stray commas, line breaks, and spans."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators import sentences
from indicators.sentences import Sentence, split_sentences


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def assert_spans(text: str, sentences: list[Sentence]) -> None:
    """Every sentence is exactly its span of the original text; spans ordered, disjoint."""
    prev_end = 0
    for s in sentences:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.text
        assert s.start >= prev_end
        prev_end = s.end


# ---------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. imperialists staged drills again. The DPRK will respond.",
            ["The U.S. imperialists staged drills again.", "The DPRK will respond."],
        ),
        (
            "Mr. Kim met Gen. Lee on Jan. 5. They talked for an hour.",
            ["Mr. Kim met Gen. Lee on Jan. 5.", "They talked for an hour."],
        ),
        (
            "Mrs. Park and Dr. Choe arrived on Sept. 9 in Pyongyang. It rained.",
            ["Mrs. Park and Dr. Choe arrived on Sept. 9 in Pyongyang.", "It rained."],
        ),
        (
            "S. Korea held talks with J. Smith of the U.N. in Seoul. Nothing came of it.",
            ["S. Korea held talks with J. Smith of the U.N. in Seoul.", "Nothing came of it."],
        ),
        (
            "Kim Jong Un met with Lt. Gen. Ri Yong Gil. Both smiled.",
            ["Kim Jong Un met with Lt. Gen. Ri Yong Gil.", "Both smiled."],
        ),
    ],
    ids=["U.S.", "Mr./Gen./Jan.", "Mrs./Dr./Sept.", "initials", "Lt. Gen."],
)
def test_abbreviations_do_not_end_sentences(text, expected):
    assert texts(text) == expected



@pytest.mark.parametrize("title", [
    "U.S.-S. Korea Joint Military Exercises Slammed",  # the part after a hyphen is an initial
    "Peruvian Organizations Assail US-S. Korea Joint Military Exercises",
    "Anti-U.S. Death-defying Resistance Called for",
    "South Headquarters of Pomminryon Calls for Eliminating Pro-U.S. Forces",
    "Paper on military drills in s. Korea",  # KCNA writes "s. Korea" too
    "Bulgarian Organization Praises Peerlessly Great Persons of Mt. Paektu",
    "Secy. Kim Jong Il receives KPA propagandists",
    "Floral basket to G.S. Kim Jong Il from Guinean President",  # initials
])
def test_a_title_with_an_abbreviation_is_one_sentence(title: str) -> None:
    """KCNA's headlines were cut at these periods: the second half lost its actor."""
    assert texts(title) == [title]

def test_abbreviation_at_real_sentence_end_splits_before_an_opener():
    # "... the U.S. The DPRK ..." : the period closes both the abbreviation and the sentence.
    assert texts("It rejects the hostile policy of the U.S. The DPRK will not sit idle.") == [
        "It rejects the hostile policy of the U.S.",
        "The DPRK will not sit idle.",
    ]


def test_decimal_numbers_are_not_boundaries():
    assert texts("Output rose 3.5 percent. Exports grew.") == ["Output rose 3.5 percent.", "Exports grew."]


def test_plain_sentences_split_on_each_terminator():
    assert texts("War is coming! Are talks possible? Nobody knows.") == [
        "War is coming!",
        "Are talks possible?",
        "Nobody knows.",
    ]


def test_lower_case_after_a_period_does_not_start_a_sentence():
    # The documented rule: only a capital, digit or opening quote starts a new sentence.
    assert texts("The drills ended at 5 p.m. local time. south Korea said nothing.") == [
        "The drills ended at 5 p.m. local time. south Korea said nothing."
    ]


# ---------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('He said, "We will win." Then he left.', ['He said, "We will win."', "Then he left."]),
        ("He said, “We will win.” Then he left.", ["He said, “We will win.”", "Then he left."]),
        ("He said, 'We will win.' Then he left.", ["He said, 'We will win.'", "Then he left."]),
        ("They shouted (for peace!) Then they left.", ["They shouted (for peace!)", "Then they left."]),
        ("Trump threatened Pyongyang with “fire and fury.” Kim replied.",
         ["Trump threatened Pyongyang with “fire and fury.”", "Kim replied."]),
        ("He asked: “Talks?” “Never!” came the reply.",
         ["He asked: “Talks?”", "“Never!” came the reply."]),
    ],
    ids=["straight", "curly", "single", "bracket", "seed-style", "quote-after-quote"],
)
def test_sentence_ending_inside_closing_quotes_keeps_the_quote(text, expected):
    out = split_sentences(text)
    assert [s.text for s in out] == expected
    assert_spans(text, out)


def test_new_sentence_may_open_with_a_quote():
    assert texts('The statement ended. "We will never yield," it said.') == [
        "The statement ended.",
        '"We will never yield," it said.',
    ]


# ---------------------------------------------------------------- KCNA stray commas


def test_line_starting_with_a_comma_continues_the_previous_sentence():
    text = ("The joint declaration called for the withdrawal of the U.S. troops\n"
            ", establishment of a lasting peace-keeping mechanism on the peninsula.\n"
            "The meeting closed.")
    out = split_sentences(text)
    assert [s.text for s in out] == [
        "The joint declaration called for the withdrawal of the U.S. troops\n"
        ", establishment of a lasting peace-keeping mechanism on the peninsula.",
        "The meeting closed.",
    ]
    assert_spans(text, out)


def test_line_starting_with_indented_comma_also_continues():
    text = "Present were officials\n   , diplomats and guests.\nIt was warm."
    assert len(split_sentences(text)) == 2


def test_hero_comma_period_ending_is_a_sentence_end():
    # Real KCNA: "... Kim Jong Suk, an anti-Japanese war hero,.\nThe article said:"
    text = "It marks the birth anniversary of Kim Jong Suk, an anti-Japanese war hero,.\nThe article said:"
    out = split_sentences(text)
    assert [s.text for s in out] == [
        "It marks the birth anniversary of Kim Jong Suk, an anti-Japanese war hero,.",
        "The article said:",
    ]
    assert_spans(text, out)


def test_comma_period_inside_a_line_ends_the_sentence():
    assert texts("They visited the Fruit Farm,. They enjoyed the show.") == [
        "They visited the Fruit Farm,.",
        "They enjoyed the show.",
    ]


def test_stray_comma_after_a_period_is_not_part_of_the_next_sentence():
    # Real KCNA: "... at the invitation of AP. ,  During the visit ..."
    text = "He came back at the invitation of AP. ,  During the visit they signed an agreement."
    out = split_sentences(text)
    assert [s.text for s in out] == [
        "He came back at the invitation of AP.",
        "During the visit they signed an agreement.",
    ]
    assert_spans(text, out)


# ---------------------------------------------------------------- line breaks


def test_newline_ends_a_sentence_even_without_punctuation():
    text = "Kim Jong Il Inspects KPA Unit\nPyongyang, May 5 (KCNA) -- He inspected a unit.\nThe message said:"
    assert texts(text) == [
        "Kim Jong Il Inspects KPA Unit",
        "Pyongyang, May 5 (KCNA) -- He inspected a unit.",
        "The message said:",
    ]


def test_crlf_and_blank_lines():
    text = "First line\r\n\r\n\r\nSecond line.\r\n"
    out = split_sentences(text)
    assert [s.text for s in out] == ["First line", "Second line."]
    assert_spans(text, out)


def test_single_line_without_terminator_is_one_sentence():
    assert split_sentences("Rare inter-Korean talks proposed") == [
        Sentence("Rare inter-Korean talks proposed", 0, 32)
    ]


def test_surrounding_whitespace_is_trimmed_and_spans_shift():
    text = "   Talks resume.   "
    assert split_sentences(text) == [Sentence("Talks resume.", 3, 16)]


def test_non_ascii_whitespace_is_trimmed_at_sentence_start():
    text = "Talks resumed.\xa0The delegates met.\u3000It was cordial."
    assert texts(text) == ["Talks resumed.", "The delegates met.", "It was cordial."]


# ---------------------------------------------------------------- spans and degenerate input


def test_spans_index_the_original_text_of_the_seed():
    seed = (Path(__file__).resolve().parents[2] / "tension" / "seeds" / "000_624e3677cbe7fb1b.txt").read_text("utf-8")
    out = split_sentences(seed)
    assert len(out) >= 10
    assert_spans(seed, out)
    assert any(s.text.startswith("These olive-branch overtures") for s in out)
    # U.S. and the quoted ending stay inside one sentence.
    fury = [s.text for s in out if "fire and fury" in s.text]
    assert fury == ["Kim has repeatedly threatened to destroy the South along with the U.S., "
                    "while Trump has threatened Pyongyang with “fire and fury.”"]


@pytest.mark.parametrize("text", ["", " ", "\n\n", "...", "!?!", " , ; : ", "“”", "-- — –", "\t.\n,\n"])
def test_empty_or_punctuation_only_input_gives_no_sentences(text):
    assert split_sentences(text) == []


def test_punctuation_only_pieces_between_sentences_are_dropped():
    assert texts("Talks began.\n...\n!!!\nThey ended.") == ["Talks began.", "They ended."]


def test_non_latin_text_is_kept():
    text = "북한은 회담을 제안했다. Северная Корея угрожает."
    out = split_sentences(text)
    assert out  # no crash, something kept
    assert_spans(text, out)
    assert "".join(s.text for s in out).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("He met Mr. Kim. " * 1000, 1000),  # 16 KB, 2,000 periods, one line
        ("The North threatened war.\nTalks were proposed by Mr. Kim.\n" * 500, 1000),  # 30 KB, lines
    ],
    ids=["one-line", "paragraphs"],
)
def test_long_text_is_split_in_linear_time(text, n, monkeypatch):
    """Linear time without a clock (timings belong in bench/): each period looks back at most
    a bounded window for the word before it, once, so the work grows with the text."""
    windows = []

    class Counting:
        def search(self, text, pos, endpos):
            windows.append(endpos - pos)
            return pattern.search(text, pos, endpos)

    pattern = sentences._WORD_BEFORE
    monkeypatch.setattr(sentences, "_WORD_BEFORE", Counting())
    out = split_sentences(text)
    assert len(out) == n
    assert windows and max(windows) <= 40 and len(windows) <= text.count(".")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_property_any_string_gives_valid_ordered_spans(text):
    out = split_sentences(text)
    assert_spans(text, out)
    for s in out:
        assert s.text == s.text.rstrip()
        assert any(ch.isalnum() for ch in s.text)


_PIECES = st.sampled_from([
    "Mr.", "U.S.", "S.", " Korea", " The ", " the ", "threat", "talks", ".", ",", ",.", "!",
    "?", "\n", "\n, ", "\r\n", " ", "“", "”", '"', "'", "(", ")", "Jan.", " 5", "a", "Kim",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_property_news_like_strings_give_valid_spans(text):
    out = split_sentences(text)
    assert_spans(text, out)
    # Nothing with a letter or digit is lost: every alphanumeric char lies in some sentence.
    covered = set()
    for s in out:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, ch in enumerate(text) if ch.isalnum())
