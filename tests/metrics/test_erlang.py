"""Erlang C against values worked by hand and a published worked example."""

from __future__ import annotations

import math

import pytest

from metrics.lib.erlang import agents_needed, average_speed_of_answer, erlang_b, erlang_c, service_level


def test_erlang_c_small_cases_worked_by_hand():
    # C(2, 1) = (1/2 · 2/1) / (1 + 1 + 1) = 1/3;  C(3, 2) = (8/6 · 3) / (1 + 2 + 2 + 4) = 4/9.
    assert erlang_c(2, 1) == pytest.approx(1 / 3)
    assert erlang_c(3, 2) == pytest.approx(4 / 9)
    # Erlang B(1, 1) = 1/2; B(2, 1) = (1/2) / (1 + 1 + 1/2) = 1/5.
    assert erlang_b(1, 1) == pytest.approx(0.5)
    assert erlang_b(2, 1) == pytest.approx(0.2)


def test_erlang_c_table_for_ten_erlangs():
    # The usual table: A = 10 Erlangs (e.g. 200 calls/h of 180 s).
    assert [round(erlang_c(n, 10), 4) for n in (11, 12, 13, 14)] == [0.6821, 0.4494, 0.2853, 0.1741]


def test_the_textbook_example_360_calls_per_half_hour():
    # 360 calls per 30 min, 240 s each, 55 agents, target 15 s: A = 48 Erlangs,
    # P(wait) ≈ 23.9 %, service level ≈ 84.6 %, ASA ≈ 8.2 s.
    assert erlang_c(55, 48) == pytest.approx(0.2387, abs=1e-4)
    assert service_level(55, 48, 240, 15) == pytest.approx(0.8459, abs=1e-4)
    assert average_speed_of_answer(55, 48, 240) == pytest.approx(8.18, abs=0.01)


def test_agents_needed_is_the_fewest_reaching_the_target():
    plan = agents_needed(200, 180, target_level=0.8, target_seconds=20)
    assert plan.agents == 14
    assert service_level(13, 10, 180, 20) < 0.8 <= service_level(14, 10, 180, 20)
    assert plan.occupancy == pytest.approx(10 / 14)


def test_unstable_and_empty_queues():
    assert erlang_c(10, 10) == 1.0
    assert service_level(5, 10, 180, 20) == 0.0
    assert math.isinf(average_speed_of_answer(5, 10, 180))
    assert agents_needed(0, 180).agents == 0
    with pytest.raises(ValueError):
        agents_needed(100, 180, target_level=1.2)
