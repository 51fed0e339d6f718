"""The metrics settings, read with their defaults in one place."""

from __future__ import annotations

from django.conf import settings


def short_abandon_seconds() -> int:
    """Abandons with a wait strictly under this are short abandons (0 = none)."""
    return int(getattr(settings, "METRICS_SHORT_ABANDON_SECONDS", 0))


def service_level_seconds() -> int:
    """The threshold of the service-level figure (answered within N seconds); 15 s is reported separately."""
    return int(getattr(settings, "METRICS_SERVICE_LEVEL_SECONDS", 20))


def basically_satisfied_counts() -> bool:
    """Whether a "basically satisfied" rating counts as satisfied (GB/T 39735 leaves it to the city)."""
    return bool(getattr(settings, "METRICS_BASICALLY_SATISFIED_COUNTS", True))


def repeat_window_days() -> int:
    """A ticket repeats an earlier one registered at most this many days before it (set in hotline)."""
    return int(getattr(settings, "HOTLINE_REPEAT_WINDOW_DAYS", 30))
