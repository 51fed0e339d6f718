"""The two-factor gate: a session that skipped the second factor its user now needs is ended.

The login asks for the code before it logs anybody in (web.views.auth), so this only catches
sessions opened before the requirement applied to the user: a promotion to supervisor, a deploy
that turned OTP_REQUIRED_ROLES on, a device enrolled from another browser. Their next request
logs them out; a page goes to the login (which then asks for the code or the enrolment), an API
call gets 401.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from web import twofactor

OPEN_PREFIXES = ("/login/", "/logout/", "/i18n/", "/static/")


class TwoFactorGate:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not twofactor.session_passes(user, request.session)
        ):
            logout(request)
            if request.path.startswith("/api/"):
                response = JsonResponse(
                    {"error": "not_authenticated", "message": _("Log in again with your two-factor code.")},
                    status=401,
                )
                response["WWW-Authenticate"] = "Token"
                return response
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
