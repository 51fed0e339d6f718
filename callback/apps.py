from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbackConfig(AppConfig):
    name = "callback"
    verbose_name = _("Callbacks and revisits")

    def ready(self) -> None:
        from callback import callbacks, notifications, revisits, unit_alerts
        from callback.sms import services as sms
        from hotline.jobs import register_step
        from telephony.services import register_survey_handler

        register_step("callbacks.ingest", lambda now: callbacks.ingest_missed_calls())
        register_step("callbacks.cancel_got_through", callbacks.cancel_got_through)
        register_step("callbacks.do_not_call", callbacks.cancel_do_not_call)
        register_step("callbacks.expire", callbacks.expire_old)
        register_step("callbacks.expire_leases", callbacks.expire_leases)
        register_step("callbacks.offer", callbacks.offer_callbacks)
        register_step("revisits.cancel_stale", lambda now: revisits.cancel_stale_revisits())
        register_step("revisits.schedule", revisits.schedule_pending_revisits)
        register_step("revisits.release_claims", revisits.release_expired_claims)
        register_step("revisits.surveys", revisits.start_due_surveys)
        register_step("revisits.ivr", revisits.start_due_ivr_surveys)
        register_step("sms.notify_registered", notifications.notify_registered)
        register_step("sms.notify_replies", notifications.notify_replies)
        register_step("sms.notify_revisits", notifications.notify_revisits_due)
        register_step("sms.notify_units", unit_alerts.notify_units)
        register_step("sms.recover", sms.recover_stale_sms)
        register_step("sms.send", sms.send_due_sms)
        # The IVR survey's key press comes back through the bridge (telephony) to the revisit it answers.
        register_survey_handler(revisits.record_ivr_result)
        # Callbacks, SMS and revisits, for retention and a citizen's request (docs/security.md §10).
        from callback import retention
        from hotline.retention import register_holder

        register_holder("callback", retention.HOLDER)
        # Citizens (docs/citizens.md): the one-time codes' SMS lose their code once it has expired.
        from callback import otp

        register_step("otp.redact", otp.redact_expired)
        register_step("otp.prune", otp.prune)
        # The WeChat official account's template messages (callback/wechat/notify.py); idle while WeChat is off.
        from callback.wechat import notify as wechat

        register_step("wechat.notify", wechat.queue_notifications)
        register_step("wechat.recover", wechat.recover)
        register_step("wechat.send", wechat.send_due)
        # Outcomes of 110's referrals told back to its webhook (callback/outcomes110.py).
        from callback import outcomes110

        register_step("referrals110.queue", outcomes110.queue)
        register_step("referrals110.recover", outcomes110.recover)
        register_step("referrals110.send", outcomes110.send_due)
