"""Every API error is JSON: {"error": code, "message": text, ...details}."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hotline.errors import Conflict, DomainError, IllegalTransition, InvalidInput, NotAllowed

STATUS_BY_ERROR = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotAllowed: status.HTTP_403_FORBIDDEN,
    IllegalTransition: status.HTTP_409_CONFLICT,
    Conflict: status.HTTP_409_CONFLICT,
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
        return Response({"error": exc.code, "message": exc.message, **_plain(exc.details)}, status=code)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = _("the request body is larger than %(limit)s bytes") % {"limit": limit}
        return Response({"error": "too_big", "message": message}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        message = _("the request has more than %(limit)s fields") % {"limit": limit}
        return Response({"error": "too_many_fields", "message": message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404) or _is_lookup_by_a_non_number(exc):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": "invalid", "message": _first_message(exc.detail), "fields": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": getattr(exc, "default_code", "error"), "message": str(response.data["detail"])}
    return response


def _is_lookup_by_a_non_number(exc: Exception) -> bool:
    """Django's error for ``Model.objects.get(pk="abc")``: an id that is no number names nothing (404)."""
    text = str(exc)
    return isinstance(exc, (ValueError, TypeError)) and text.startswith("Field '") and "expected a number" in text


def _plain(details: dict) -> dict:
    return {k: v for k, v in details.items() if isinstance(v, (str, int, float, bool, type(None)))}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)
