"""Sending a protected file: the headers that keep it inert, byte ranges, and nginx's X-Accel-Redirect.

Used by the attachment and the call-recording downloads, after their own permission checks. A
player (HTML ``<audio>``) asks for ranges to seek; a range that starts past the end is 416. Behind
nginx the view only names the file (``X-Accel-Redirect`` to an ``internal`` location) and nginx
answers the ranges itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from rest_framework.negotiation import BaseContentNegotiation

# The file is not a page of the app: a browser opening it runs nothing and loads nothing.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}
CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class AnyAccept(BaseContentNegotiation):
    """The file is what it is, whatever Accept asks for; errors still come as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b`` -> (first, last) inclusive; None = send the whole file.

    Several ranges or a malformed header are ignored (the whole file, as RFC 9110 allows);
    a range that starts at or past the end raises :class:`RangeNotSatisfiable`.
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable
    if last and int(last) < start:
        return None
    return start, end


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        while length > 0:
            chunk = f.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def send_file(
    request: HttpRequest,
    path: Path,
    *,
    size: int,
    content_type: str,
    filename: str,
    x_accel: str = "",
) -> HttpResponse:
    """The file at ``path`` (``size`` bytes, checked by the caller), whole or the asked range.

    ``x_accel``: the internal nginx location's URL of the file; nginx then sends it (and its ranges).
    """
    if x_accel:
        response = HttpResponse()
        response["X-Accel-Redirect"] = quote(x_accel)
    else:
        try:
            wanted = parse_range(request.headers.get("Range", ""), size)
        except RangeNotSatisfiable:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _inert(response)
        if wanted is None:
            response = StreamingHttpResponse(_read(path, 0, size))
            response["Content-Length"] = str(size)
        else:
            start, end = wanted
            response = StreamingHttpResponse(_read(path, start, end - start + 1), status=206)
            response["Content-Length"] = str(end - start + 1)
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Accept-Ranges"] = "bytes"
    response["Content-Type"] = content_type
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return _inert(response)


def _inert(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    for name, value in FILE_HEADERS.items():
        response[name] = value
    return response
