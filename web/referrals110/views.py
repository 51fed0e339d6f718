"""110 → 12345 for machines: a 110 platform posts a referral and reads its outcome, with its own key.

JSON in and out. The key goes in ``Authorization: Bearer <key>`` (or ``X-Api-Key``). Errors are
``{"error": {"code", "message", "field"}}`` with: 400 ``invalid_json`` / ``invalid`` /
``unknown_matter``, 401 ``no_key`` / ``bad_key``, 403 ``revoked_key``, 404 ``not_found``,
429 ``throttled`` (with Retry-After). A repeated incident number answers 200 with the first
referral's ticket and ``"created": false`` (a new one is 201).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from hotline import throttle
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import Matter110, System110
from hotline.services import referrals110

MAX_BODY = 64 * 1024
FIELDS = ("incident_number", "matter", "content", "phone", "address", "reported_at", "caller_name")


def _error(status: int, code: str, message: str, field: str = "") -> JsonResponse:
    body = {"error": {"code": code, "message": message, **({"field": field} if field else {})}}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:]
    return request.headers.get("X-Api-Key", "")


def with_system(view: Callable) -> Callable:
    """Authenticates the 110 platform by its key, throttles it, and maps domain errors to JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        try:
            system = referrals110.authenticate(_key(request))
        except NotAllowed as exc:
            reason = exc.details.get("reason")
            if reason == "revoked":
                return _error(403, "revoked_key", exc.message)
            response = _error(401, "no_key" if reason == "missing" else "bad_key", exc.message)
            response["WWW-Authenticate"] = 'Bearer realm="110"'
            return response
        buckets = [throttle.Bucket("referrals110", str(system.pk), system.rate_limit_per_hour)]
        try:
            throttle.check("referrals110", buckets)
        except throttle.Throttled as exc:
            response = _error(
                429,
                "throttled",
                _("this API key may make %(limit)s calls an hour") % {"limit": system.rate_limit_per_hour},
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        throttle.count("referrals110", buckets)
        try:
            return view(request, system, *args, **kwargs)
        except InvalidInput as exc:
            code = "unknown_matter" if exc.details.get("reason") == "unknown_matter" else "invalid"
            return _error(400, code, exc.message, str(exc.details.get("field") or ""))

    return wrapper


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["POST"])
@with_system
def referrals(request: HttpRequest, system: System110) -> JsonResponse:
    if len(request.body) > MAX_BODY:
        return _error(400, "invalid", _("the body is larger than 64 KB"))
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(400, "invalid_json", _("the body must be a JSON object in UTF-8"))
    if not isinstance(body, dict):
        return _error(400, "invalid_json", _("the body must be a JSON object in UTF-8"))
    values = {}
    for name in FIELDS:
        value = body.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            return _error(400, "invalid", _("%(field)s must be a string") % {"field": name}, name)
        values[name] = value
    received = referrals110.receive(system, **values)
    data = {"created": received.created, **referrals110.view(received.referral)}
    return _json(data, 201 if received.created else 200)


@require_GET
@with_system
def referral(request: HttpRequest, system: System110, incident: str) -> JsonResponse:
    found = referrals110.find(system, incident)
    if found is None:
        return _error(
            404, "not_found", _("incident %(number)s was not referred by this system") % {"number": incident[:40]}
        )
    return _json(referrals110.view(found))


@require_GET
@with_system
def matters(request: HttpRequest, system: System110) -> JsonResponse:
    rows = [{"code": m.code, "name": m.name} for m in Matter110.objects.filter(active=True) if m.accepted_from_110]
    return _json({"matters": rows})
