"""The request side of the audit log (docs/security.md §9): every request runs inside an audit
scope, so whatever the view shows of citizens' personal data (``hotline.audit.note_read``) is
written as one entry when the response is done, naming the user, the address, the endpoint."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from hotline import audit


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.scope(request=request, ip=request.META.get("REMOTE_ADDR") or None, path=request.path) as opened:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            opened.screen = (match.view_name if match is not None else "") or request.path
            return response
