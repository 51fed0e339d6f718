"""The OpenAPI schema and its Swagger UI: public in development, behind login otherwise
(settings API_DOCS_PUBLIC), and served without inline script or style (CSP)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, permissions


class DocsPermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsPermission]


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script at ?script (not inline) and no <style> element."""

    permission_classes = [DocsPermission]
    template_name = "web/api/swagger_ui.html"

    def handle_exception(self, exc):
        # The page itself goes to the login screen; its script (?script) answers 401 like any API call.
        if isinstance(exc, exceptions.NotAuthenticated) and "script" not in self.request.GET:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
