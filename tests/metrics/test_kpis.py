"""The KPI engine against figures worked out by hand for November 2026 (see conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from hotline.services.repeats import recompute_repeats
from metrics import kpis
from metrics.kpis import Figure
from metrics.periods import Period

from .conftest import NOVEMBER, NOW

pytestmark = pytest.mark.django_db

# (unit code or None for the city, rolled up?) -> KPI -> (numerator, denominator); (0, 0) is "no data".
EXPECTED = {
    (None, True): {
        "answer_rate": (3, 6),
        "on_time_rate": (3, 6),
        "acceptance_rate": (4, 5),
        "reopen_rate": (1, 4),
        "repeat_rate": (3, 8),
    },
    ("XT12345", False): {
        "answer_rate": (3, 6),
        "on_time_rate": (0, 0),
        "acceptance_rate": (0, 0),
        "reopen_rate": (0, 0),
        "repeat_rate": (0, 0),
    },
    ("YH", False): {
        "answer_rate": (0, 0),
        "on_time_rate": (3, 5),
        "acceptance_rate": (4, 4),
        "reopen_rate": (1, 4),
        "repeat_rate": (1, 4),
    },
    ("YH", True): {
        "answer_rate": (0, 0),
        "on_time_rate": (3, 6),
        "acceptance_rate": (4, 5),
        "reopen_rate": (1, 4),
        "repeat_rate": (1, 4),
    },
    ("YH01", False): {
        "answer_rate": (0, 0),
        "on_time_rate": (0, 1),
        "acceptance_rate": (0, 1),
        "reopen_rate": (0, 0),
        "repeat_rate": (0, 1),
    },
    ("ZJJ", True): {
        "answer_rate": (0, 0),
        "on_time_rate": (0, 0),
        "acceptance_rate": (0, 0),
        "reopen_rate": (0, 0),
        "repeat_rate": (0, 0),
    },
}


@pytest.mark.parametrize(("scope", "expected"), list(EXPECTED.items()), ids=lambda v: str(v))
def test_figures_match_the_hand_computed_month(november, scope, expected):
    code, rollup = scope
    unit = november.units()[code] if code else None
    figures = kpis.compute_kpis(NOVEMBER, unit, rollup=rollup, now=NOW)
    got = {key: (figures[key].numerator, figures[key].denominator) for key in expected}
    assert got == expected


def test_the_center_rolled_up_is_the_whole_city(november):
    center = november.units()["XT12345"]
    assert kpis.compute_kpis(NOVEMBER, center, now=NOW) == kpis.compute_kpis(NOVEMBER, None, now=NOW)


def test_a_unit_with_no_assignments_has_no_data_not_zero(november):
    figure = kpis.on_time_rate(NOVEMBER, november.units()["ZJJ"], now=NOW)
    assert figure == Figure(0, 0)
    assert figure.value is None
    assert figure.as_dict() == {"numerator": 0, "denominator": 0, "value": None}


def test_a_reply_one_minute_late_is_late_and_an_approved_extension_moves_the_deadline(november):
    late, extended = november.assignments["t2"], november.assignments["t3"]
    assert (late.replied_at - late.reply_by).total_seconds() == 60
    assert extended.reply_by > extended.original_reply_by
    assert extended.original_reply_by < extended.replied_at <= extended.reply_by
    only_t3 = Period(extended.reply_by.date(), extended.reply_by.date())
    assert kpis.on_time_rate(only_t3, november.units()["YH"], rollup=False, now=NOW) == Figure(1, 1)


def test_a_reopen_counts_in_its_own_month_and_the_reply_it_redoes_in_the_previous_one(november):
    october = Period.of("month", date(2026, 10, 9))
    assert kpis.reopen_rate(october) == Figure(0, 1)
    assert kpis.reopen_rate(NOVEMBER) == Figure(1, 4)


def test_short_abandons_leave_the_answer_rate_denominator(november):
    with override_settings(METRICS_SHORT_ABANDON_SECONDS=5):
        assert kpis.answer_rate(NOVEMBER) == Figure(3, 5)
    # A 3-second abandon is not short under a 3-second threshold (strictly under it is).
    assert kpis.answer_rate(NOVEMBER, short_abandon_seconds=3) == Figure(3, 6)
    assert kpis.answer_rate(NOVEMBER, short_abandon_seconds=4) == Figure(3, 5)


def test_a_repeat_31_days_later_counts_only_with_a_31_day_window(november):
    assert kpis.repeat_rate(NOVEMBER) == Figure(3, 8)
    # Repeats are marked at registration; after widening the window, recompute them.
    with override_settings(HOTLINE_REPEAT_WINDOW_DAYS=31):
        assert recompute_repeats() == 1
        assert kpis.repeat_rate(NOVEMBER) == Figure(4, 8)


def test_open_assignments_not_yet_due_are_left_out_until_their_deadline(november):
    t4 = november.assignments["t4"]
    before = t4.reply_by.replace(microsecond=0) - (t4.reply_by - t4.dispatched_at) / 2
    # Mid-way, T4 and its sub-dispatch are neither on time nor late yet; the replied ones are decided.
    assert kpis.on_time_rate(NOVEMBER, now=before) == Figure(3, 4)
    assert kpis.on_time_rate(NOVEMBER, now=NOW) == Figure(3, 6)


def test_all_units_in_one_go_equal_the_unit_by_unit_figures(november, django_assert_max_num_queries):
    # The units; the center-only answer rate: 1; five additive KPIs: 2 each (one grouped scan, the unit
    # tree); the repeat rate: 3 (own, level-2 subtree, city).
    with django_assert_max_num_queries(1 + 1 + 5 * 2 + 3):
        table = kpis.kpis_for_all_units(NOVEMBER, now=NOW)
    assert len(table) > 30
    for row in table:
        unit = row["unit"]
        assert row["own"] == kpis.compute_kpis(NOVEMBER, unit, rollup=False, now=NOW), unit.code
        assert row["rollup"] == kpis.compute_kpis(NOVEMBER, unit, rollup=True, now=NOW), unit.code


def test_answer_share_per_agent(november, agent):
    assert kpis.answer_rate_by_agent(NOVEMBER) == {agent.pk: Figure(3, 6)}


def test_periods_are_local_days():
    assert Period.of("week", date(2026, 11, 4)) == Period(date(2026, 11, 2), date(2026, 11, 8), "week")
    assert Period.of("quarter", date(2026, 11, 4)) == Period(date(2026, 10, 1), date(2026, 12, 31), "quarter")
    assert Period.of("year", date(2026, 11, 4)).days == 365
    assert Period.of("month", date(2026, 2, 14)).last == date(2026, 2, 28)
    assert NOVEMBER.start.isoformat() == "2026-11-01T00:00:00+08:00"
    with pytest.raises(ValueError):
        Period(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ValueError):
        Period.of("fortnight", date(2026, 11, 1))
