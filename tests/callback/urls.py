"""The callback endpoints under /api/v1/, as web/api/urls.py will mount them."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from web.api import callbacks as api

router = DefaultRouter()
api.register(router)
urlpatterns = [path("api/v1/", include([*api.urlpatterns(), path("", include(router.urls))]))]
