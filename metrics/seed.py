"""The two example evaluation schemes, seeded by metrics migration 0002 (idempotently: an existing version is left
as the admin edited it). They are configurable examples, not law: docs/metrics.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

SCHEMES = [
    {
        "code": "xiangtan-five",
        "name": "湘潭 five KPIs",
        "valid_from": date(2020, 1, 1),
        "unit_kinds": [],
        "basically_satisfied_weight": Decimal("1"),
        "basis": "Example weights over the five KPIs of DESIGN §8 (湘潭): on-time 40, satisfaction 30, reopen 15, "
        "repeat 15 (the answer rate, weight 10, is the center's own and gives units no data); 0.5 point per "
        "overdue assignment (at most 10) and 1 point per dispute decided against the unit (at most 5). "
        "A configurable example, not law.",
        "indicators": {
            "answer_rate": "10",
            "on_time_rate": "40",
            "satisfaction_rate": "30",
            "reopen_rate": "15",
            "repeat_rate": "15",
        },
        "deductions": {"overdue": ("0.5", "10"), "dispute_rejected": ("1", "5")},
    },
    {
        "code": "jiesu-jiban",
        "name": "接诉即办 three rates",
        "valid_from": date(2020, 1, 1),
        "unit_kinds": [],
        "basically_satisfied_weight": Decimal("0.9"),
        "basis": "Beijing 接诉即办's common public formula: 0.1 × response rate + 0.5 × solved rate + 0.4 × satisfied "
        "rate, 'basically satisfied' counted 0.9. A configurable example, not law.",
        "indicators": {"response_rate": "0.1", "solved_rate": "0.5", "satisfied_rate": "0.4"},
        "deductions": {},
    },
]


def seed_schemes(scheme_model, indicator_model, deduction_model) -> int:
    """Create the example schemes that do not exist yet (by code and valid_from); returns how many were made."""
    made = 0
    for spec in SCHEMES:
        fields = {k: v for k, v in spec.items() if k not in ("indicators", "deductions", "code", "valid_from")}
        scheme, created = scheme_model.objects.get_or_create(
            code=spec["code"], valid_from=spec["valid_from"], defaults=fields
        )
        if not created:
            continue
        made += 1
        for key, weight in spec["indicators"].items():
            indicator_model.objects.create(scheme=scheme, indicator=key, weight=Decimal(weight))
        for rule, (points, cap) in spec["deductions"].items():
            deduction_model.objects.create(scheme=scheme, rule=rule, points=Decimal(points), cap=Decimal(cap))
    return made
