"""The admin site, in the hotline's name, warning when the holiday calendar runs out."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class HotlineAdminSite(admin.AdminSite):
    site_header = _("Lianxin 12345 administration")
    site_title = _("Lianxin 12345")
    index_title = _("Back office")
    index_template = "admin/hotline_index.html"

    def index(self, request, extra_context=None):
        from hotline.services.calendar import provisional_years

        extra_context = {**(extra_context or {}), "provisional_years": provisional_years()}
        return super().index(request, extra_context)


class HotlineAdminConfig(AdminConfig):
    default_site = "hotline.admin_site.HotlineAdminSite"
