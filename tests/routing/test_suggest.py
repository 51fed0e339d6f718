"""Dispatch suggestions from the dispatch catalogue: ranked, with their reasons."""

from __future__ import annotations

from hotline.models import Area, Topic, Unit
from routing.models import DispatchRule
from routing.suggest import suggest_for_ticket, suggest_for_tickets, suggest_units
from tests.factories import new_ticket


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


def test_a_page_of_tickets_is_ranked_from_one_read_of_the_rules(agent, django_assert_num_queries):
    page = [
        new_ticket(agent, topic="0201", area="YH01", phone="13800138001"),
        new_ticket(agent, topic="0502", area="YT01", phone="13800138002"),
        new_ticket(agent, topic=None, area=None, content="小区停水两天了", phone="13800138003"),
    ]
    with django_assert_num_queries(1):
        ranked = suggest_for_tickets(page, limit=3)
    assert {pk: names(found) for pk, found in ranked.items()} == {
        t.pk: names(suggest_for_ticket(t, limit=3)) for t in page
    }
    assert [names(found)[0] for found in ranked.values()] == ["雨湖区", "市人力资源和社会保障局", "市自来水公司"]
