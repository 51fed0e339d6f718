"""Attachment files: served only to who may see the ticket, and only as the image they were verified to be.

Nothing under MEDIA_ROOT is public. In production nginx sends the file itself: the view answers
with X-Accel-Redirect to ATTACHMENTS_X_ACCEL_PREFIX, an ``internal`` location (docs/security.md).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from hotline.access import visible_tickets
from hotline.models import Attachment

# The file is not a page of the app: a browser opening it runs nothing and loads nothing.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}


class AnyAccept(BaseContentNegotiation):
    """The file is the image it is, whatever Accept asks for; errors still come as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def file_response(attachment: Attachment) -> HttpResponse:
    if settings.ATTACHMENTS_X_ACCEL_PREFIX:
        response = HttpResponse()
        response["X-Accel-Redirect"] = (
            settings.ATTACHMENTS_X_ACCEL_PREFIX.rstrip("/") + "/" + quote(attachment.file.name)
        )
    else:
        try:
            response = FileResponse(attachment.file.open("rb"))
        except FileNotFoundError:
            raise Http404 from None
    response["Content-Type"] = attachment.content_type  # one of IMAGE_EXTENSIONS, verified at upload
    response["Content-Disposition"] = f'inline; filename="{attachment.download_name}"'
    response["Cache-Control"] = "private, no-store"
    for name, value in FILE_HEADERS.items():
        response[name] = value
    return response


class AttachmentFileView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="attachments_file",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
        description="The image itself, to users who may see its ticket (others get 404).",
    )
    def get(self, request, pk: int):
        attachment = get_object_or_404(Attachment.objects.filter(ticket__in=visible_tickets(request.user)), pk=pk)
        return file_response(attachment)
