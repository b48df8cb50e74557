"""Segment counting against the published GSM 03.38 / UCS-2 concatenation limits."""

from __future__ import annotations

import pytest

from channels.segments import count_segments, encoding


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_vectors(length: int, segments: int) -> None:
    text = "a" * length
    assert encoding(text) == "GSM-7"
    assert count_segments(text) == segments


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_vectors(length: int, segments: int) -> None:
    text = "ł" * length
    assert encoding(text) == "UCS-2"
    assert count_segments(text) == segments


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_escape_characters_cost_two_septets(char: str) -> None:
    assert encoding(char) == "GSM-7"
    assert count_segments("a" * 158 + char) == 1
    assert count_segments("a" * 159 + char) == 2


def test_gsm_basic_extras_are_single_septets() -> None:
    text = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà\n\r"
    assert encoding(text) == "GSM-7"
    assert count_segments(text + "a" * (160 - len(text))) == 1


@pytest.mark.parametrize("char", ["ł", "ş", "ç", "—", "…", "“", "😀"])
def test_one_non_gsm_character_switches_everything_to_ucs2(char: str) -> None:
    text = "a" * 100 + char
    assert encoding(text) == "UCS-2"
    assert count_segments(text) == 2


def test_arabic_is_ucs2() -> None:
    text = "تم إلغاء رحلتك. اختر رحلة بديلة"
    assert encoding(text) == "UCS-2"
    assert count_segments(text) == 1
    assert count_segments(text * 3) == 2


def test_emoji_counts_two_utf16_units() -> None:
    assert count_segments("😀" * 35) == 1
    assert count_segments("😀" * 35 + "a") == 2


def test_escape_pair_is_not_split_across_parts() -> None:
    # 306 septets would be 2 parts, but the € pair cannot straddle the 153-septet boundary.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text) == 3


def test_surrogate_pair_is_not_split_across_parts() -> None:
    text = "ł" * 66 + "😀" + "ł" * 66  # 134 units, but the emoji cannot straddle part 1/2
    assert count_segments(text) == 3


def test_empty_text_is_one_gsm_segment() -> None:
    assert encoding("") == "GSM-7"
    assert count_segments("") == 1
