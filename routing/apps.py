from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from hotline.jobs import register_step
        from routing.warnings import send_deadline_warnings

        register_step("deadlines.warn", send_deadline_warnings)
