"""Evaluation schemes are edited in the admin: kinds ticked, versions that do not overlap, never deleted."""

from __future__ import annotations

import pytest
from django.test import Client

from hotline.models import User
from metrics.models import EvaluationScheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(seeded) -> Client:
    user = User.objects.create_superuser("scheme_admin", password="x-Very-long-9")
    client = Client()
    client.force_login(user)
    return client


def form(**extra) -> dict:
    data = {
        "code": "jiesu-jiban",
        "name": "接诉即办 three rates",
        "valid_from": "2027-01-01",
        "valid_until": "",
        "unit_kinds": ["district", "department"],
        "basically_satisfied_weight": "0.8",
        "basis": "2027 版",
        "is_active": "on",
        "indicators-TOTAL_FORMS": "1",
        "indicators-INITIAL_FORMS": "0",
        "indicators-0-indicator": "solved_rate",
        "indicators-0-weight": "1",
        "deductions-TOTAL_FORMS": "0",
        "deductions-INITIAL_FORMS": "0",
    }
    return data | extra


def test_a_new_version_must_not_overlap_the_open_one(admin_client):
    page = admin_client.post("/admin/metrics/evaluationscheme/add/", form())
    assert page.status_code == 200
    errors = page.context["adminform"].form.non_field_errors()
    # "Another version of this scheme is valid for part of the same days." (in the request's language)
    assert len(errors) == 1 and ("Another version" in errors[0] or "另一个版本" in errors[0])
    assert EvaluationScheme.objects.filter(code="jiesu-jiban").count() == 1


def test_ending_the_old_version_lets_the_new_one_in(admin_client):
    old = EvaluationScheme.objects.get(code="jiesu-jiban")
    old.valid_until = old.valid_from.replace(year=2026, month=12, day=31)
    old.save()
    page = admin_client.post("/admin/metrics/evaluationscheme/add/", form())
    assert page.status_code == 302, page.content.decode()[:2000]
    new = EvaluationScheme.objects.get(code="jiesu-jiban", valid_from="2027-01-01")
    assert new.unit_kinds == ["district", "department"] and new.kinds() == ["district", "department"]
    assert list(new.indicators.values_list("indicator", "weight")) == [("solved_rate", 1)]


def test_a_scheme_cannot_be_deleted(admin_client):
    scheme = EvaluationScheme.objects.first()
    assert admin_client.get(f"/admin/metrics/evaluationscheme/{scheme.pk}/delete/").status_code in (302, 403)
    assert EvaluationScheme.objects.filter(pk=scheme.pk).exists()
