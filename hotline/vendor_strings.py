"""Admin labels of third-party apps that ship no Chinese catalog (django-axes, django-otp, knox).

Nothing imports this module: it exists so that ``makemessages`` keeps these msgids in our catalog,
where Django finds them for the apps' own lazy ``gettext`` calls. Labels those apps derive from a
field name without ``gettext`` cannot be translated this way and stay English.
"""

from django.utils.translation import gettext_noop

VENDOR_STRINGS = [
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("auth token"),
    gettext_noop("auth tokens"),
    gettext_noop("TOTP device"),
    gettext_noop("TOTP devices"),
    gettext_noop("Username"),
    gettext_noop("Status"),
]
