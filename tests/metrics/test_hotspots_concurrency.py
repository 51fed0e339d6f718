"""Two supervisors turning one hot spot into a case at once, and two workers scanning at once (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from hotline.errors import IllegalTransition
from hotline.models import SupervisionCase
from metrics import hotspots
from metrics.models import HotSpot
from tests.hotline.test_concurrency import run_together
from tests.metrics.test_hotspots import FIVE, burst

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _only_on_postgres(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's in-memory test database has one connection")


def test_two_clicks_at_once_open_one_case(agent, dispatcher, supervisor):
    burst(agent, FIVE)
    hotspots.scan()
    spot = HotSpot.objects.get()
    results = run_together(
        lambda: hotspots.supervise(spot.pk, dispatcher), lambda: hotspots.supervise(spot.pk, supervisor)
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], IllegalTransition), results
    assert SupervisionCase.objects.count() == 1


def test_two_workers_scanning_at_once_write_one_hot_spot(agent):
    burst(agent, FIVE)
    now = timezone.now()
    results = run_together(lambda: hotspots.scan_step(now), lambda: hotspots.scan_step(now))
    assert sorted(results) == [0, 1], results
    assert HotSpot.objects.count() == 1
