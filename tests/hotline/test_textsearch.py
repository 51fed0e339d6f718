"""The search's tokens (hotline.lib.textsearch): a phrase of bigrams matches exactly the texts that contain it."""

from __future__ import annotations

import pytest

from hotline.lib.textsearch import document, like_patterns, normalize, query_terms, tsquery

TEXT = "小区楼下广场舞音乐太吵，晚上十点后仍未停止。A3栋302室 ＡＢＣ"


def found(query: str, text: str = TEXT) -> bool:
    doc = document(text)
    return all(p in doc for p in like_patterns(query_terms(query)))


@pytest.mark.parametrize(
    "query", ["广场舞", "广", "舞音乐太吵", "停止", "止", "晚上 广场", "a3栋", "A3", "abc", "302室", "栋302"]
)
def test_every_substring_of_a_chinese_run_is_found(query):
    assert found(query)


@pytest.mark.parametrize(
    "query",
    [
        "广场舞蹈",  # longer than the text
        "吵晚上",  # across the comma: not a substring of the text
        "音广场",  # the bigrams exist, not in this order
        "8号",  # a number is matched from its start: 8号 is not 88号
        "噪音",
    ],
)
def test_what_the_text_does_not_contain_is_not_found(query):
    assert not found(query)


def test_a_number_is_matched_from_its_start_not_inside():
    assert found("88号", "城正街88号") and not found("8号", "城正街88号")


def test_full_width_and_case_are_folded():
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert found("ABC") and found("ａｂｃ")


def test_punctuation_and_metacharacters_are_no_syntax():
    assert query_terms("%_'\";-- .*[(") == []
    phrases = query_terms("广场'舞 & 1=1")
    assert tsquery(phrases) == "('广场') & ('舞':*) & ('1':*) & ('1':*)"


def test_a_phrase_is_a_tsquery_of_adjacent_tokens():
    assert tsquery(query_terms("噪音扰民")) == "('噪音' <-> '音扰' <-> '扰民')"
    assert tsquery(query_terms("a3栋")) == "('a3' <-> '栋':*)"
    assert tsquery(query_terms("楼3")) == "('楼' <-> '3':*)"


def test_a_long_text_is_cut_below_the_tsvector_position_limit():
    assert len(document("字" * 40_000).split()) == 16_000


def test_a_long_number_is_matched_whole():
    assert tsquery(query_terms("2026112900001")) == "('2026112900001')"
    assert found("2026112900001", "2026112900001 123456") and not found("20261129", "2026112900001")
    assert tsquery(query_terms("12345")) == "('12345':*)"  # shorter: a prefix, as any word
