from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "hotline"
    verbose_name = _("Hotline")

    def ready(self) -> None:
        from hotline import retention
        from hotline.jobs import register_step

        # Personal data of tickets finished PERSONAL_DATA_RETENTION_DAYS ago (docs/security.md §10).
        register_step("retention.anonymise", retention.step)


class HotlineAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the hotline's site, named by a dotted path because the site imports models."""

    default = False  # not a candidate when Django picks the "hotline" entry's config from this module
    default_site = "hotline.admin_site.HotlineAdminSite"
