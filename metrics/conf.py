"""The service-level threshold, for metrics/api.py until it joins web/api/ and reads the setting itself."""

from __future__ import annotations

from django.conf import settings


def service_level_seconds() -> int:
    """The threshold of the service-level figure (answered within N seconds); 15 s is reported separately."""
    return settings.METRICS_SERVICE_LEVEL_SECONDS
