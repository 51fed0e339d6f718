"""Attachments: stored under generated names, served only to who may see the ticket, only as images.

A penetration test uploaded a valid GIF named ``poc.html`` with ``<script>`` in its comment; it was
kept under that name and served from the app's origin as text/html, to anyone, at a predictable
/media/ path. These tests hold each part of that shut.
"""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches
from PIL import Image

from hotline.models import Attachment
from tests.conftest import api_as
from tests.factories import dispatched_ticket, lead_assignment

pytestmark = pytest.mark.django_db

SANDBOX = "sandbox; default-src 'none'"


def gif_with_script() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (1, 1)).save(buffer, "GIF", comment=b"<script>alert(document.cookie)</script>")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def ticket(agent):
    return dispatched_ticket(agent, lead="YH")


def upload(user, ticket, name="poc.html", content=None, capture=None):
    """Upload through the API, committing (the file is written when the transaction commits)."""
    file = SimpleUploadedFile(name, gif_with_script() if content is None else content, content_type="text/html")
    with capture(execute=True):
        response = api_as(user).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": file}, format="multipart")
    return response


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


# --- Hole 1: stored XSS through an attachment ------------------------------------------------------


def test_an_image_named_html_is_stored_under_a_generated_name_with_its_verified_extension(
    agent, ticket, media, django_capture_on_commit_callbacks
):
    response = upload(agent, ticket, "poc.html", capture=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(ticket=ticket)
    stored = Path(attachment.file.name)
    assert stored.suffix == ".gif"
    assert "poc" not in stored.name and ticket.number not in attachment.file.name
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}\.gif", stored.name)  # unguessable: 128 random bits at least
    assert (media / attachment.file.name).read_bytes() == gif_with_script()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("poc.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("poc.html", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_anything_but_an_image_is_refused(agent, ticket, media, name, content, django_capture_on_commit_callbacks):
    response = upload(agent, ticket, name, content, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert files_under(media) == []


def test_an_attachment_is_served_only_as_its_image_type_sandboxed(
    agent, ticket, media, django_capture_on_commit_callbacks
):
    url = upload(agent, ticket, capture=django_capture_on_commit_callbacks).json()["file"]
    response = logged_in(agent).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    attachment = Attachment.objects.get(ticket=ticket)
    assert response["Content-Disposition"] == f'inline; filename="attachment-{attachment.pk}.gif"'
    assert b"".join(response.streaming_content) == gif_with_script()


# --- Hole 2: attachments readable without login ------------------------------------------------------


@pytest.fixture
def debug_urls(settings):
    """The URLconf as `make demo` builds it (DEBUG=1), where /media/ used to be served to anyone."""
    import config.urls

    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_nothing_under_media_is_served_even_in_debug(
    agent, ticket, media, debug_urls, django_capture_on_commit_callbacks
):
    upload(agent, ticket, capture=django_capture_on_commit_callbacks)
    name = Attachment.objects.get(ticket=ticket).file.name
    assert Client().get(f"/media/{name}").status_code == 404
    assert logged_in(agent).get(f"/media/{name}").status_code == 404


def test_an_attachment_is_served_to_who_may_see_its_ticket_and_to_nobody_else(
    agent, yuhu, yuetang, ticket, media, django_capture_on_commit_callbacks
):
    url = upload(agent, ticket, capture=django_capture_on_commit_callbacks).json()["file"]
    assert logged_in(agent).get(url).status_code == 200
    assert logged_in(yuhu).get(url).status_code == 200  # the unit the ticket is assigned to
    assert logged_in(yuetang).get(url).status_code == 404  # another unit: not even told it exists
    assert Client().get(url).status_code in (401, 403)
    assert api_as(yuhu).get(url).status_code == 200  # API clients with a token too


def test_behind_nginx_the_file_is_handed_over_by_x_accel_redirect(
    agent, ticket, media, settings, django_capture_on_commit_callbacks
):
    settings.ATTACHMENTS_X_ACCEL_PREFIX = "/protected-media/"
    url = upload(agent, ticket, capture=django_capture_on_commit_callbacks).json()["file"]
    response = logged_in(agent).get(url)
    attachment = Attachment.objects.get(ticket=ticket)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{attachment.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/gif"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX


def test_an_attachment_stored_under_its_old_name_is_still_served(agent, ticket, media):
    """Files uploaded before generated names keep their path; the view serves them, as images."""
    old = default_storage.save(f"tickets/2026/11/{ticket.number}/poc.html", ContentFile(gif_with_script()))
    attachment = Attachment.objects.create(
        ticket=ticket, file=old, content_type="image/gif", size=len(gif_with_script()), uploaded_by=agent
    )
    response = logged_in(agent).get(f"/api/v1/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Content-Disposition"] == f'inline; filename="attachment-{attachment.pk}.gif"'


def test_a_refused_reply_with_an_attachment_leaves_no_file(yuhu, ticket, media, django_capture_on_commit_callbacks):
    """Not yet accepted, the reply is refused: the attachment sent with it is neither kept nor written."""
    assignment = lead_assignment(ticket)
    image = SimpleUploadedFile("photo.gif", gif_with_script(), content_type="image/gif")
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(yuhu).post(f"/unit/assignments/{assignment.pk}/reply/", {"text": "已处理", "file": image})
    assert response.status_code == 200  # the page again, with the refusal
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert files_under(media) == []


def test_the_unit_ticket_page_links_the_attachment_through_the_checking_view(
    agent, yuhu, ticket, media, django_capture_on_commit_callbacks
):
    upload(agent, ticket, capture=django_capture_on_commit_callbacks)
    attachment = Attachment.objects.get(ticket=ticket)
    page = logged_in(yuhu).get(f"/unit/tickets/{ticket.pk}/").content.decode()
    assert f'href="/api/v1/attachments/{attachment.pk}/"' in page
    assert attachment.download_name in page
    assert attachment.file.name not in page and "/media/" not in page
