"""The API's body parsers: bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and, for JSON, in nesting depth."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def read_bounded(stream) -> bytes:
    """The whole body, or RequestDataTooBig (the API answers 413) once it passes the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if stream is None:
        return b""
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    return body


def depth_of(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in item)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(read_bounded(stream), encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(_("JSON parse error - the body is nested too deeply")) from None
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        if not isinstance(data, dict):  # every body of this API is an object; views read it with .get
            raise ParseError(_("JSON parse error - the body must be a JSON object"))
        if depth_of(data) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(
                _("JSON parse error - nested deeper than %(max)s levels") % {"max": settings.API_MAX_JSON_DEPTH}
            )
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        from django.http import QueryDict  # counts the fields: TooManyFieldsSent past the limit

        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(read_bounded(stream), encoding=encoding)
