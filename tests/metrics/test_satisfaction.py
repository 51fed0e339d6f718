"""Satisfaction and rating rate over revisits made by the callback services (December 2026)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from metrics import kpis
from metrics.kpis import Figure

from .conftest import DECEMBER

pytestmark = pytest.mark.django_db


def test_satisfaction_excludes_the_appealed_rating_and_counts_basically_satisfied(rated_december):
    assert rated_december["unsatisfied"].__class__.objects.get(pk=rated_december["unsatisfied"].pk).excluded_from_kpi
    # Rated: very satisfied, satisfied, basically, very unsatisfied (the granted appeal's rating is out).
    assert kpis.satisfaction_rate(DECEMBER) == Figure(3, 4)
    with override_settings(METRICS_BASICALLY_SATISFIED_COUNTS=False):
        assert kpis.satisfaction_rate(DECEMBER) == Figure(2, 4)


def test_rating_rate_counts_every_finished_revisit(rated_december):
    # Five rated (the appealed one too: it was rated) of six finished; the unreachable one has no rating.
    assert kpis.rating_rate(DECEMBER) == Figure(5, 6)


def test_satisfaction_is_charged_to_the_judged_unit(rated_december, seeded):
    from hotline.models import Unit

    zjj, yh = Unit.objects.get(code="ZJJ"), Unit.objects.get(code="YH")
    assert kpis.satisfaction_rate(DECEMBER, zjj, rollup=False) == Figure(3, 4)
    assert kpis.satisfaction_rate(DECEMBER, yh).value is None
    table = {row["unit"].code: row for row in kpis.kpis_for_all_units(DECEMBER)}
    assert table["ZJJ"]["rollup"]["satisfaction_rate"] == Figure(3, 4)
    assert table["ZJJ"]["own"]["rating_rate"] == Figure(5, 6)
    assert table["XT12345"]["rollup"]["satisfaction_rate"] == Figure(3, 4)
