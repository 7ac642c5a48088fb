"""The validation report says what its study file names: another conflict's study (another GPR
column, other one-word counts, other years) gets its own words, none of the KCNA study's."""

from __future__ import annotations

from tension.validation.report import measures_section


def _share(right: int) -> dict:
    events = [{"date": "2012-11-14", "label": "Operation <Pillar>", "kind": "hostile", "effect": 0.1,
               "right": True}]
    return {"events": {"right": right, "n_events": 10, "share": right / 10, "ci_low": 0.2, "ci_high": 0.8,
                       "events": events},
            "gpr": {"r": 0.3, "n_months": 60}, "windows": {"pre28_post7": 0.5}}


def test_the_measures_section_names_the_studys_own_reference_words_and_years() -> None:
    m = {"events_file": "events_isr.csv", "gpr_file": "gpr_isr.csv", "gpr_column": "GPRC_ISR",
         "gpr_from": "2005-01", "gpr_to": None, "words": ["rocket", "ceasefire"], "years": "2005–2015",
         "measures": {"intensity": _share(6), "all": _share(5), "word:rocket": _share(4)},
         "dyads": {"ISR-PSE": {"mean": 0.4, "n_articles": 1200, "most_conciliatory_months": ["2008-06"]}}}
    text = measures_section(m)
    assert "GPRC_ISR of `gpr_isr.csv`, 2005-01 to the last month both have" in text
    assert '`word:rocket` is the share of the day\'s headlines with the word "rocket"' in text
    assert '"ceasefire"' in text and "mean tension 2005–2015" in text
    assert "Operation &lt;Pillar&gt;" in text or "Operation <Pillar>" not in text  # event labels escaped
    for korean in ("GPRC_KOR", "nuclear", "1997", "2014", "KCNA"):
        assert korean not in text, korean
