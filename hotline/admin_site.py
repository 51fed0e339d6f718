"""The admin site, in the hotline's name, warning when the holiday calendar runs out.

Loaded by ``HotlineAdminConfig.default_site`` once the app registry is ready, so it may import models and
services at the top (the app config itself lives in ``hotline.apps``, which Django imports before models).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hotline.services.calendar import provisional_years


class HotlineAdminSite(admin.AdminSite):
    site_header = _("Lianxin 12345 administration")
    site_title = _("Lianxin 12345")
    index_title = _("Back office")
    index_template = "admin/hotline_index.html"

    def login(self, request, extra_context=None):
        """One door: the console's login, which asks for the two-factor code where one is needed."""
        return redirect_to_login(request.GET.get("next") or self.index_path(), settings.LOGIN_URL)

    def index_path(self) -> str:
        return reverse("admin:index", current_app=self.name)

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "provisional_years": provisional_years()}
        return super().index(request, extra_context)
