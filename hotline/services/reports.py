"""随手拍 and online reports: a citizen files a ticket from the /report/ page (channel web or photo).

The phone was proven by an SMS code before this is called (``callback/otp.py``). The photos come
verified and stripped (``attachments.prepare_photo``); without a point typed or from the browser,
the first photo's EXIF GPS point is used. A point outside the city leaves the area to the center
(docs/open311.md).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.errors import InvalidInput
from hotline.models import Area, Category, Channel, Ticket, Topic
from hotline.services import abuse
from hotline.services.attachments import Photo, add_citizen_photo
from hotline.services.tickets import register_ticket

MAX_PHOTOS = 9


def file_report(
    *,
    phone: str,
    content: str,
    category: Category,
    topic: Topic | None = None,
    address: str = "",
    area: Area | None = None,
    lat=None,
    lng=None,
    photos: list[Photo] = (),
    caller_name: str = "",
    consent_public: bool = False,
    channel: str | None = None,
    volume: bool = False,
) -> Ticket:
    """Register the citizen's report with its photos in one transaction; channel ``photo`` with photos, else
    ``web`` — unless the page says it came through WeChat or the city's app (``channel``).

    ``volume``: the submission came after suspicious volume (the web asked for a CAPTCHA). With it, or
    another sign of abuse (``services/abuse.py``), the ticket is held for the center's review
    (``ticket.held``) instead of going to dispatch."""
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("at most %(count)s photos") % {"count": MAX_PHOTOS}, field="photos")
    if lat in (None, "") and lng in (None, ""):
        located = next((p for p in photos if p.lat is not None), None)
        if located is not None:
            lat, lng = located.lat, located.lng
    if address and not any(ch.isalnum() for ch in address):
        raise InvalidInput(_("the address has no words or numbers in it"), field="address")
    with transaction.atomic():
        reasons = abuse.hold_reasons(phone, content, volume=volume)
        ticket = register_ticket(
            by=None,
            phone=phone,
            content=content,
            category=category,
            caller_name=caller_name,
            topic=topic,
            address=address,
            area=area,
            lat=lat,
            lng=lng,
            channel=channel or (Channel.PHOTO if photos else Channel.WEB),
            consent_public=consent_public,
            source={"photos": len(photos)} if photos else None,
        )
        for photo in photos:
            add_citizen_photo(ticket, photo)
        if reasons:
            abuse.hold(ticket, reasons)
    return ticket
