"""The admin site, in the hotline's name, warning when the holiday calendar runs out.

Loaded by ``HotlineAdminConfig.default_site`` once the app registry is ready, so it may import models and
services at the top (the app config itself lives in ``hotline.apps``, which Django imports before models).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hotline.services.calendar import provisional_years


class HotlineAdminSite(admin.AdminSite):
    site_header = _("Lianxin 12345 administration")
    site_title = _("Lianxin 12345")
    index_title = _("Back office")
    index_template = "admin/hotline_index.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "provisional_years": provisional_years()}
        return super().index(request, extra_context)
