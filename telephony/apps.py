from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        # The call controls (hold, mute, transfers) register their bridge commands.
        from hotline.jobs import register_step
        from telephony import call_controls  # noqa: F401
        from telephony.services import prune_call_events

        register_step("calls.prune_events", prune_call_events)
        # Recordings: copy them from the PBX after each call (RECORDINGS_FETCH_URL), delete them after
        # RECORDINGS_RETENTION_DAYS (docs/telephony.md "Recordings").
        from telephony import recordings

        register_step("recordings.fetch", recordings.fetch_pending)
        register_step("recordings.purge", recordings.purge_expired)
        # The calls' caller numbers, for retention and a citizen's request (docs/security.md §10).
        from hotline.retention import register_holder
        from telephony import retention

        register_holder("telephony", retention.HOLDER)
