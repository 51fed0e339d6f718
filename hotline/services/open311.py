"""Open311 systems: their keys, and a report posted by one registered as a ticket (docs/open311.md)."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import open311
from hotline.errors import InvalidInput
from hotline.lib.attributes import AttributeProblem, answer_names, clean_answers
from hotline.models import Category, Channel, Open311Client, Open311Request, User
from hotline.services import abuse, apikeys
from hotline.services.tickets import register_ticket


def create_client(*, name: str, operator: str, channel_label: str, rate_limit_per_hour: int, by: User | None):
    """A new integrating system and its key; the key is returned once and never stored in clear."""
    client = Open311Client(
        name=name, operator=operator, channel_label=channel_label, rate_limit_per_hour=rate_limit_per_hour
    )
    raw = client.new_key()
    client.created_by = by
    client.save()
    return client, raw


def revoke_client(client: Open311Client, by: User | None) -> bool:
    """Revoke a system's key: its posts are refused from now on, its reports stay. False if already revoked."""
    return apikeys.revoke(client, by)


def authenticate(raw: str | None) -> Open311Client:
    """The active system a key belongs to. Missing, unknown and revoked keys are all 403 (the spec's)."""
    return apikeys.authenticate(Open311Client, raw)


def _attribute_error(problem: AttributeProblem, service: str) -> InvalidInput:
    messages = {
        "unknown": _("attribute[%(code)s] is not in the definition of service %(service)s"),
        "required": _("attribute[%(code)s] is required by service %(service)s"),
        "several": _("attribute[%(code)s] takes one value"),
        "too_long": _("attribute[%(code)s] is too long or has more than one line"),
        "number": _("attribute[%(code)s] must be a number"),
        "datetime": _("attribute[%(code)s] must be an ISO 8601 date and time"),
        "value": _("attribute[%(code)s] must be one of the keys in the service definition"),
    }
    message = messages[problem.reason] % {"code": problem.code[:32], "service": service}
    return InvalidInput(message, field=f"attribute[{problem.code[:32]}]")


def _media_url(raw: str) -> str:
    """An http(s) link kept as text. The server never fetches it, so where it points does not matter."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if len(raw) > 500 or parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in raw):
        raise InvalidInput(_("media_url must be an http or https URL of at most 500 characters"), field="media_url")
    return raw


def submit(
    client: Open311Client,
    *,
    service_code: str,
    description: str = "",
    lat: str = "",
    long: str = "",
    address_string: str = "",
    address_id: str = "",
    phone: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    device_id: str = "",
    account_id: str = "",
    media_url: str = "",
    attributes: dict[str, list[str]] | None = None,
) -> Open311Request:
    """POST requests: the report as a ticket of channel ``open311``, the system named on its timeline.

    Checked in the spec's order: the service, then the location, then the attributes. The
    point's area is looked up from the seed's centroids; a point outside the city is kept with
    no area, for the center to place. The phone is required: the hotline answers and revisits
    every citizen by phone (docs/open311.md).
    """
    service_code = (service_code or "").strip()
    if not service_code:
        raise InvalidInput(_("service_code was not provided"), field="service_code")
    found = open311.find_service(service_code)
    if found is None:
        raise InvalidInput(
            _("service_code %(code)s was not found") % {"code": service_code[:16]}, field="service_code", not_found=True
        )
    topic, service = found
    lat, long, address_string = (lat or "").strip(), (long or "").strip(), (address_string or "").strip()
    address_id = (address_id or "").strip()
    has_point = bool(lat) and bool(long)
    if bool(lat) != bool(long):
        raise InvalidInput(_("lat and long must be given together"), field="long" if lat else "lat")
    if not has_point and not address_string and not address_id:
        raise InvalidInput(_("a location is required: lat and long, address_string or address_id"), field="lat")
    if not (phone or "").strip():
        raise InvalidInput(
            _("phone is required: the 12345 hotline calls every citizen back with the answer"), field="phone"
        )
    try:
        answers = clean_answers(service.attributes, attributes or {})
    except AttributeProblem as problem:
        raise _attribute_error(problem, service.code) from None
    media_url = _media_url(media_url)
    name = f"{(last_name or '').strip()}{(first_name or '').strip()}"[:50]
    content = (description or "").strip()
    title = content[:30] or service.name
    lines = answer_names(service.attributes, answers)
    if lines:
        content = "\n".join([content, *(f"{q}：{a}" for q, a in lines)]).strip()
    if not content:
        raise InvalidInput(_("description is required"), field="description")
    address = address_string or (f"address_id {address_id}" if address_id else "")
    category = Category.objects.filter(code=settings.OPEN311_CATEGORY).first()
    if category is None:
        raise InvalidInput(
            _("the hotline has no category %(code)s for Open311 reports (OPEN311_CATEGORY)")
            % {"code": settings.OPEN311_CATEGORY}
        )
    source = {"system": client.name, "channel_label": client.channel_label, "open311_client": client.pk}
    with transaction.atomic():
        ticket = register_ticket(
            by=None,
            phone=phone,
            caller_name=name,
            content=content,
            title=title,
            category=category,
            topic=topic,
            address=address[:200],
            lat=lat or None,
            lng=long or None,
            channel=Channel.OPEN311,
            source=source,
        )
        request = Open311Request.objects.create(
            ticket=ticket,
            client=client,
            token=secrets.token_urlsafe(32),
            service_code=service.code,
            media_url=media_url,
            attributes=answers,
            email=(email or "").strip()[:254],
            device_id=(device_id or "").strip()[:100],
            account_id=(account_id or "").strip()[:100],
        )
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
        # A citizen's report through another system may be abuse as well: held for the center's review.
        if reasons := abuse.hold_reasons(ticket.caller.phone, ticket.content, volume=False, exclude=ticket):
            abuse.hold(ticket, reasons)
    return request
