"""Dispatch suggestions from the dispatch catalogue: ranked, with their reasons."""

from __future__ import annotations

from hotline.models import Area, Topic, Unit
from routing.models import DispatchRule
from routing.suggest import suggest_units


def names(suggestions) -> list[str]:
    return [s.unit.name for s in suggestions]


def test_a_local_matter_goes_to_the_district_before_the_city_department(seeded):
    found = suggest_units(topic=Topic.objects.get(code="0201"), area=Area.objects.get(code="YH01"), text="广场舞")
    assert names(found)[:2] == ["雨湖区", "市城市管理和综合执法局"]
    assert any("雨湖区" in reason for reason in found[0].reasons)


def test_a_department_matter_goes_to_its_department_whatever_the_area(seeded):
    found = suggest_units(topic=Topic.objects.get(code="0502"), area=Area.objects.get(code="YT01"), text="")
    assert names(found)[0] == "市人力资源和社会保障局"


def test_keywords_alone_suggest_a_unit_and_say_which_words_matched(seeded):
    (first, *_rest) = suggest_units(topic=None, area=None, text="小区停水两天了，水压也不够")
    assert first.unit.code == "ZLS"
    assert any("停水" in reason for reason in first.reasons)


def test_inactive_rules_and_units_are_never_suggested(seeded):
    DispatchRule.objects.filter(unit__code="ZLS").update(is_active=False)
    assert "ZLS" not in [s.unit.code for s in suggest_units(topic=None, area=None, text="停水")]
    DispatchRule.objects.filter(unit__code="ZLS").update(is_active=True)
    Unit.objects.filter(code="ZLS").update(is_active=False)
    assert "ZLS" not in [s.unit.code for s in suggest_units(topic=None, area=None, text="停水")]


def test_nothing_matching_suggests_nothing(seeded):
    assert suggest_units(topic=None, area=None, text="zzz") == []
