"""Image attachments on tickets and replies: size-limited, verified as real images, stored under
generated names (hotline.models.tickets.attachment_path) and written only once committed."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

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
