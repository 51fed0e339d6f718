"""A URLconf with only the calls endpoint, so the API is tested before (and after) it is wired in web/."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from web.api.calls import CallViewSet

router = DefaultRouter()
router.register("calls", CallViewSet, basename="call")
urlpatterns = [path("api/v1/", include(router.urls))]
