"""The GeoReport v2 methods: discovery, services, a service definition, requests (GET and POST),
a request, a token. Each answers in the format its URL ends with (.json or .xml); errors in the
spec's error format with the HTTP status the spec names. GET needs no key; POST needs ``api_key``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from hotline import open311, throttle
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import Open311Request
from hotline.services import open311 as submissions
from web.open311.render import error, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way a client should notice (discovery's changeset).
CHANGESET = "2026-11-29T00:00:00Z"
MAX_DAYS = 90
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def georeport(view: Callable) -> Callable:
    """Checks ``jurisdiction_id`` and turns the domain's errors into the spec's error format."""

    @wraps(view)
    def wrapper(request: HttpRequest, fmt: str, *args, **kwargs) -> HttpResponse:
        given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
        ours = settings.OPEN311_JURISDICTION_ID
        if given and ours and given != ours:
            return error(fmt, 404, _("jurisdiction_id %(id)s was not found") % {"id": given[:64]})
        try:
            return view(request, fmt, *args, **kwargs)
        except NotAllowed as exc:
            return error(fmt, 403, exc.message)
        except InvalidInput as exc:
            return error(fmt, 404 if exc.details.get("not_found") else 400, exc.message)

    return wrapper


def _endpoint(request: HttpRequest) -> str:
    return request.build_absolute_uri("/open311/v2/").rstrip("/")


@require_GET
@georeport
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    data = {
        "changeset": CHANGESET,
        "contact": settings.OPEN311_CONTACT,
        "key_service": _("Ask the 12345 center for an API key; each integrating system gets its own."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": _endpoint(request),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", data)


def _service_row(service: open311.Service) -> dict:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": service.metadata,
        "type": "realtime",
        "keywords": "",
        "group": service.group,
    }


@require_GET
@georeport
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return respond(fmt, "services", [_service_row(s) for s in open311.services()])


@require_GET
@georeport
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    found = open311.find_service(code)
    if found is None:
        return error(fmt, 404, _("service_code %(code)s was not found") % {"code": code[:16]})
    _topic, service = found
    attributes = []
    for order, field in enumerate(service.attributes, 1):
        row = {
            "variable": True,
            "code": field["code"],
            "datatype": field["datatype"],
            "required": bool(field.get("required")),
            "datatype_description": field.get("datatype_description") or None,
            "order": order,
            "description": field["description"],
        }
        if field.get("values"):
            row["values"] = [{"key": str(v["key"]), "name": v["name"]} for v in field["values"]]
        attributes.append(row)
    return respond(fmt, "service_definition", {"service_code": service.code, "attributes": attributes})


def _request_row(view: open311.RequestView) -> dict:
    return {
        "service_request_id": view.service_request_id,
        "status": view.status,
        "status_notes": view.status_notes,
        "service_name": view.service_name,
        "service_code": view.service_code,
        "description": view.description,
        "agency_responsible": view.agency_responsible,
        "service_notice": view.service_notice,
        "requested_datetime": view.requested_datetime,
        "updated_datetime": view.updated_datetime,
        "expected_datetime": view.expected_datetime,
        "address": view.address,
        "address_id": view.address_id,
        "zipcode": view.zipcode,
        "lat": view.lat,
        "long": view.long,
        "media_url": view.media_url,
    }


def _when(request: HttpRequest, name: str) -> datetime | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise InvalidInput(
            _("%(name)s must be a W3C date and time with its time zone, e.g. 2026-01-01T00:00:00Z") % {"name": name},
            field=name,
        )
    return moment


def _listed(request: HttpRequest, name: str) -> list[str]:
    return [v.strip() for v in (request.GET.get(name) or "").split(",") if v.strip()]


def _search(request: HttpRequest):
    tickets = open311.visible()
    ids = _listed(request, "service_request_id")
    if ids:  # the spec: service_request_id overrides every other parameter
        return tickets.filter(number__in=ids[: settings.OPEN311_REQUESTS_LIMIT])
    codes = _listed(request, "service_code")
    if codes:
        tickets = tickets.filter(topic__code__in=codes)
    statuses = _listed(request, "status")
    if statuses:
        if any(s not in ("open", "closed") for s in statuses):
            raise InvalidInput(_("status must be open, closed or both (comma-separated)"), field="status")
        ours = [s for status in statuses for s in open311.statuses_for(status)]
        tickets = tickets.filter(status__in=ours)
    start, end = _when(request, "start_date"), _when(request, "end_date")
    span = timedelta(days=MAX_DAYS)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise InvalidInput(_("end_date is before start_date"), field="end_date")
    if end - start > span:
        raise InvalidInput(_("start_date to end_date may not span more than 90 days"), field="start_date")
    return tickets.filter(created_at__gte=start, created_at__lte=end)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@georeport
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post(request, fmt)
    tickets = open311.with_details(_search(request)).order_by("-created_at", "-pk")
    rows = [_request_row(open311.request_view(t)) for t in tickets[: settings.OPEN311_REQUESTS_LIMIT]]
    return respond(fmt, "service_requests", rows)


@require_GET
@georeport
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    ticket = open311.with_details(open311.visible().filter(number=number)).first()
    if ticket is None:
        return error(fmt, 404, _("service_request_id %(id)s was not found") % {"id": number[:32]})
    return respond(fmt, "service_requests", [_request_row(open311.request_view(ticket))])


@require_GET
@georeport
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    found = Open311Request.objects.filter(token=token).select_related("ticket").first()
    if found is None:
        return error(fmt, 404, _("token %(token)s was not found") % {"token": token[:43]})
    return respond(fmt, "service_requests", [{"service_request_id": found.ticket.number, "token": found.token}])


def _attributes(request: HttpRequest) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in request.POST:
        match = ATTRIBUTE.match(key)
        if match:
            found.setdefault(match.group(1), []).extend(request.POST.getlist(key))
        elif key.startswith("attribute"):
            raise InvalidInput(_("%(key)s is not of the form attribute[code]") % {"key": key[:64]}, field=key[:64])
    return found


def _post(request: HttpRequest, fmt: str) -> HttpResponse:
    content_type = (request.content_type or "").lower()
    if content_type not in FORM_TYPES:
        # The spec's POST is a form. A body in XML or JSON is not read at all (no XML parser, so no entities).
        return error(fmt, 400, _("POST the request as a form (application/x-www-form-urlencoded)"))
    client = submissions.authenticate(request.POST.get("api_key") or request.GET.get("api_key"))
    buckets = [throttle.Bucket("open311", str(client.pk), client.rate_limit_per_hour)]
    try:
        throttle.check("open311", buckets)
    except throttle.Throttled as exc:
        response = error(
            fmt, 429, _("this API key may post %(limit)s requests an hour") % {"limit": client.rate_limit_per_hour}
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    throttle.count("open311", buckets)
    field = request.POST.get
    created = submissions.submit(
        client,
        service_code=field("service_code", ""),
        description=field("description", ""),
        lat=field("lat", ""),
        long=field("long", ""),
        address_string=field("address_string", ""),
        address_id=field("address_id", ""),
        phone=field("phone", ""),
        first_name=field("first_name", ""),
        last_name=field("last_name", ""),
        email=field("email", ""),
        device_id=field("device_id", ""),
        account_id=field("account_id", ""),
        media_url=field("media_url", ""),
        attributes=_attributes(request),
    )
    # Every service is realtime: the id, and so no token (the spec: one or the other, never both).
    row = {
        "service_request_id": created.ticket.number,
        "service_notice": _("Registered by the 12345 hotline as ticket %(number)s.")
        % {"number": created.ticket.number},
        "account_id": created.account_id or None,
    }
    return respond(fmt, "service_requests", [row])
