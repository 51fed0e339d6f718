"""Two checkers scoring one check at the same moment, over real PostgreSQL connections: one wins."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from hotline.errors import Conflict
from hotline.models import Role
from metrics import quality
from metrics.models import ChecklistItem, CheckScore, CheckStatus, QualityCheck
from metrics.periods import Period
from metrics.seed import seed_checklist
from tests.conftest import make_user
from tests.factories import new_ticket
from tests.hotline.test_concurrency import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _only_on_postgres(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's in-memory test database has one connection")


def test_two_checkers_scoring_one_check_at_once_score_it_once(agent):
    seed_checklist(ChecklistItem)  # the flush of a transactional test removed the migration's rows
    new_ticket(agent)
    today = timezone.localdate()
    quality.sample(Period(today, today), seed=1, percent=100)
    check = QualityCheck.objects.get()
    items = ChecklistItem.objects.filter(target=check.target, is_active=True)
    qian, sun = (make_user(name, Role.QUALITY, "XT12345") for name in ("checker_qian", "checker_sun"))
    results = run_together(
        lambda: quality.score_check(check.pk, qian, {item.pk: 9 for item in items}),
        lambda: quality.score_check(check.pk, sun, {item.pk: 3 for item in items}),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], Conflict), results
    check.refresh_from_db()
    assert check.status == CheckStatus.DONE
    assert CheckScore.objects.filter(quality_check=check).count() == items.count()
    assert set(CheckScore.objects.values_list("score", flat=True)) in ({9}, {3})
