from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "hotline"
    verbose_name = _("Hotline")

    def ready(self) -> None:
        from django.utils import timezone

        from hotline import retention
        from hotline.jobs import register_step
        from hotline.services import knowledge

        # Personal data of tickets finished PERSONAL_DATA_RETENTION_DAYS ago (docs/security.md §10).
        register_step("retention.anonymise", retention.step)
        # Published answers whose validity ended stop being offered (GB/T 44191).
        register_step("knowledge.expire", lambda now: knowledge.expire_due(timezone.localdate(now)))


class HotlineAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the hotline's site, named by a dotted path because the site imports models."""

    default = False  # not a candidate when Django picks the "hotline" entry's config from this module
    default_site = "hotline.admin_site.HotlineAdminSite"
