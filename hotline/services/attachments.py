"""Image attachments on tickets and replies: size-limited, verified as real images, stored under
generated names (hotline.models.tickets.attachment_path) and written only once committed."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.access import check_can_view, check_own_unit
from hotline.errors import InvalidInput
from hotline.models import Assignment, Attachment, Ticket, User
from hotline.services import timeline
from hotline.services.common import lock_ticket, notify, touch
from hotline.workflow import check_transition

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def _verify_image(upload: UploadedFile) -> str:
    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    if upload.size is None or upload.size == 0:
        raise InvalidInput(_("the file is empty"), field="file")
    if upload.size > limit:
        raise InvalidInput(
            _("the file is %(size)s bytes; at most %(limit)s bytes are accepted")
            % {"size": upload.size, "limit": limit},
            field="file",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt, (width, height) = image.format, image.size
            _check_pixels(width, height)  # from the header, before anything is decoded
            image.verify()  # checks the whole file's structure without decoding pixels
    except Image.DecompressionBombError:  # past Pillow's own limit: it does not even say the size
        raise InvalidInput(
            _("the image has more than %(limit)s pixels") % {"limit": settings.ATTACHMENT_MAX_PIXELS}, field="file"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(_("the file is not an image (JPEG, PNG, GIF or WebP)"), field="file") from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise InvalidInput(
            _("%(format)s images are not accepted; use JPEG, PNG, GIF or WebP") % {"format": fmt}, field="file"
        )
    return ALLOWED_FORMATS[fmt]


def _check_pixels(width: int, height: int) -> None:
    """A small file may still decode to a huge image (12,000 × 12,000 PNG in 17 KB): refuse it by its pixels."""
    limit = settings.ATTACHMENT_MAX_PIXELS
    if width * height > limit:
        raise InvalidInput(
            _("the image is %(width)s × %(height)s pixels; at most %(limit)s pixels are accepted")
            % {"width": width, "height": height, "limit": limit},
            field="file",
        )


def _write_file(attachment: Attachment, content: ContentFile) -> None:
    # The generated name carries 192 random bits: the storage never has to pick another.
    attachment.file.storage.save(attachment.file.name, content)


def add_attachment(ticket: Ticket, by: User, upload: UploadedFile, assignment: Assignment | None = None) -> Attachment:
    content_type = _verify_image(upload)
    check_can_view(by, ticket)
    if assignment is not None:
        if assignment.ticket_id != ticket.pk:
            raise InvalidInput(_("that assignment belongs to another ticket"), field="assignment")
        check_own_unit(by, assignment)
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        check_transition("attach", ticket.status, by)
        attachment = Attachment(
            ticket=ticket, assignment=assignment, content_type=content_type, size=upload.size, uploaded_by=by
        )
        attachment.file = Attachment.file.field.generate_filename(attachment, upload.name)
        attachment.save()
        # Written once the outermost transaction commits: a caller that rolls back (a refused
        # reply sent with an image) leaves no orphan file behind. The bytes (size-limited) are
        # kept, since the upload may be closed by then.
        upload.seek(0)
        transaction.on_commit(partial(_write_file, attachment, ContentFile(upload.read())))
        touch(ticket)
        timeline.record(
            ticket,
            "ticket.attachment_added",
            by,
            assignment=assignment,
            data={"attachment": attachment.pk, "name": upload.name, "size": upload.size},
        )
        notify(ticket, "attachment_added")
    return attachment


# A citizen's photo is kept at most this many pixels on its longer side: enough to see a pothole,
# and a phone's 12-megapixel original is not what the center needs to store.
PHOTO_MAX_SIDE = 2048
GPS_IFD = 0x8825


@dataclass(frozen=True)
class Photo:
    """A citizen's photo, verified and re-encoded without its metadata; ``lat``/``lng`` from its EXIF GPS if sane."""

    name: str
    content: bytes
    content_type: str
    lat: Decimal | None = None
    lng: Decimal | None = None


def prepare_photo(upload: UploadedFile) -> Photo:
    """Verify a citizen's photo (size, then pixels, then structure: ``_verify_image``), read its GPS
    point, and re-encode it: turned upright, at most ``PHOTO_MAX_SIDE`` pixels, with no EXIF at all
    (a phone's photo carries its owner's device, time and place; only the point is kept, on the ticket)."""
    _verify_image(upload)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            lat, lng = _exif_point(image)
            fmt = "PNG" if image.format == "PNG" else "JPEG"
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(_("the file is not an image (JPEG, PNG, GIF or WebP)"), field="file") from None
    finally:
        upload.seek(0)
    base = (upload.name or "photo").rsplit(".", 1)[0][:80] or "photo"
    ext, content_type = (".png", "image/png") if fmt == "PNG" else (".jpg", "image/jpeg")
    return Photo(base + ext, out.getvalue(), content_type, lat, lng)


def _exif_point(image: Image.Image) -> tuple[Decimal | None, Decimal | None]:
    """The EXIF GPS point in WGS-84 degrees, or (None, None) when absent or out of range (lat 200)."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        lat = _degrees(gps.get(2), gps.get(1), "N", "S")
        lng = _degrees(gps.get(4), gps.get(3), "E", "W")
    except (AttributeError, TypeError, ValueError, ZeroDivisionError, KeyError, OSError):
        return None, None
    if lat is None or lng is None or not (-90 <= lat <= 90) or not (-180 <= lng <= 180):
        return None, None
    if lat == 0 and lng == 0:  # a camera without a fix writes zeros
        return None, None
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def _degrees(value, ref, positive: str, negative: str) -> float | None:
    if not value or len(value) != 3:
        return None
    degrees = float(value[0]) + float(value[1]) / 60 + float(value[2]) / 3600
    if degrees != degrees:  # NaN from a 0/0 rational
        return None
    ref = ref.decode() if isinstance(ref, bytes) else (ref or positive)
    return -degrees if ref.strip().upper() == negative else degrees


def add_citizen_photo(ticket: Ticket, photo: Photo) -> Attachment:
    """A photo the citizen sent with the report (no user: the citizen is anonymous). Call inside the
    registration's transaction; the file is written once it commits."""
    attachment = Attachment(ticket=ticket, content_type=photo.content_type, size=len(photo.content), uploaded_by=None)
    attachment.file = Attachment.file.field.generate_filename(attachment, photo.name)
    attachment.save()
    transaction.on_commit(partial(_write_file, attachment, ContentFile(photo.content)))
    timeline.record(
        ticket,
        "ticket.attachment_added",
        None,
        data={"attachment": attachment.pk, "name": photo.name, "size": len(photo.content)},
    )
    return attachment
