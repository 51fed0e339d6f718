"""Attachment files: served only to who may see the ticket, and only as the image they were verified to be.

Nothing under MEDIA_ROOT is public. In production nginx sends the file itself: the view answers
with X-Accel-Redirect to ATTACHMENTS_X_ACCEL_PREFIX, an ``internal`` location (docs/security.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from hotline.access import visible_tickets
from hotline.models import Attachment
from web.api.files import AnyAccept, send_file


def file_response(request, attachment: Attachment) -> HttpResponse:
    """The image (content_type is one of IMAGE_EXTENSIONS, verified at upload), whole or a byte range."""
    # nginx sends the file itself (and answers ranges) from its internal location.
    prefix = settings.ATTACHMENTS_X_ACCEL_PREFIX
    x_accel = prefix.rstrip("/") + "/" + attachment.file.name if prefix else ""
    path, size = Path(), 0
    if not x_accel:
        try:
            path = Path(attachment.file.path)
            size = path.stat().st_size
        except FileNotFoundError:
            raise Http404 from None
    return send_file(
        request,
        path,
        size=size,
        content_type=attachment.content_type,
        filename=attachment.download_name,
        x_accel=x_accel,
    )


class AttachmentFileView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="attachments_file",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
        description="The image itself, to users who may see its ticket (others get 404).",
    )
    def get(self, request, pk: int):
        attachment = get_object_or_404(Attachment.objects.filter(ticket__in=visible_tickets(request.user)), pk=pk)
        return file_response(request, attachment)
