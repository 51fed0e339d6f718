from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from hotline.jobs import register_step
        from telephony.services import prune_call_events

        register_step("calls.prune_events", prune_call_events)
