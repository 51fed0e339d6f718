from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbackConfig(AppConfig):
    name = "callback"
    verbose_name = _("Callbacks and revisits")
