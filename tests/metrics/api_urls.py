"""A URLconf with only the metrics endpoints, mounted where the project will mount them."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/v1/metrics/", include("web.api.metrics_urls"))]
