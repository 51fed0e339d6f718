"""Playing a call's recording: only through the authorised view, to who may hear it, audited, with ranges."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from hotline.models import AuditAction, AuditEntry, Role
from hotline.services import tickets
from telephony.models import Call, Recording
from telephony.simulator.recorder import write_clip
from tests.conftest import api_as, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(settings, tmp_path, agent, complaint):
    settings.RECORDINGS_DIR = tmp_path
    ticket = tickets.register_ticket(by=agent, phone="13800138000", content="路灯坏了", category=complaint)
    now = timezone.now()
    call = Call.objects.create(
        linkedid="1795770144.0", caller_number="13800138000", agent=agent, ticket=ticket,
        offered_at=now, answered_at=now, ended_at=now, talk_seconds=2, outcome="answered",
    )  # fmt: skip
    recording = Recording.objects.create(call=call, name="20261129/1795770144.0.wav")
    write_clip(tmp_path / recording.name, 1.0)  # 44 + 16000 bytes
    return recording


def url(recording: Recording) -> str:
    return f"/api/v1/recordings/{recording.pk}/"


def plays(user) -> int:
    return AuditEntry.objects.filter(action=AuditAction.RECORDING_PLAYED, user=user).count()


def test_a_supervisor_plays_it_whole_and_in_ranges_and_each_playback_is_audited(recorded, supervisor):
    client = api_as(supervisor)
    whole = client.get(url(recorded))
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/wav"
    assert whole["Accept-Ranges"] == "bytes" and whole["Cache-Control"] == "private, no-store"
    assert len(b"".join(whole.streaming_content)) == 16044
    part = client.get(url(recorded), HTTP_RANGE="bytes=44-99")
    assert part.status_code == 206 and part["Content-Range"] == "bytes 44-99/16044"
    assert len(b"".join(part.streaming_content)) == 56
    tail = client.get(url(recorded), HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and tail["Content-Range"] == "bytes 16034-16043/16044"
    # One playback: the player's seeks within it are not new entries.
    assert plays(supervisor) == 1
    entry = AuditEntry.objects.get(action=AuditAction.RECORDING_PLAYED)
    assert entry.data["recording"] == recorded.pk
    assert list(entry.subjects.values_list("ticket_id", flat=True)) == [recorded.call.ticket_id]


def test_a_range_past_the_end_is_416(recorded, supervisor):
    response = api_as(supervisor).get(url(recorded), HTTP_RANGE="bytes=16044-")
    assert response.status_code == 416 and response["Content-Range"] == "bytes */16044"
    assert plays(supervisor) == 0


def test_anonymous_requests_are_refused(recorded):
    response = Client().get(url(recorded))
    assert response.status_code == 401
    assert not AuditEntry.objects.filter(action=AuditAction.RECORDING_PLAYED).exists()


def test_the_agent_who_took_the_call_may_listen_other_roles_may_not(recorded, agent, dispatcher, yuhu):
    assert api_as(agent).get(url(recorded)).status_code == 200
    other_agent = make_user("agent_li", Role.AGENT, "XT12345", agent_extension="1002")
    for user in (other_agent, dispatcher, yuhu):
        response = api_as(user, "zh-hans").get(url(recorded))
        assert response.status_code == 403, user
        assert "录音" in response.json()["message"]
    quality = make_user("quality_sun", Role.QUALITY, "XT12345")
    assert api_as(quality).get(url(recorded)).status_code == 200


def test_a_missing_file_is_404_and_a_file_being_written_is_409(recorded, supervisor, settings):
    client = api_as(supervisor, "zh-hans")
    path = settings.RECORDINGS_DIR / recorded.name
    path.write_bytes(b"RIFF\0\0\0\0WAVE" + b"\0" * 100)  # the header MixMonitor writes first
    response = client.get(url(recorded))
    assert response.status_code == 409 and "录音" in response.json()["message"]
    path.unlink()
    response = client.get(url(recorded))
    assert response.status_code == 404 and "录音" in response.json()["message"]
    assert plays(supervisor) == 0


def test_the_ticket_page_shows_the_player_to_who_may_hear_it(recorded, supervisor, dispatcher):
    client = Client()
    client.force_login(supervisor)
    page = client.get(f"/tickets/{recorded.call.ticket_id}/").content.decode()
    assert f'src="/api/v1/recordings/{recorded.pk}/"' in page
    # A file still being written, or missing: said in words, no player that would fail.
    path = recorded_path(recorded)
    path.write_bytes(b"RIFF\0\0\0\0WAVE" + b"\0" * 100)
    page = client.get(f"/tickets/{recorded.call.ticket_id}/").content.decode()
    assert 'data-testid="recording-live"' in page and "recording-player" not in page
    path.unlink()
    page = client.get(f"/tickets/{recorded.call.ticket_id}/").content.decode()
    assert 'data-testid="recording-missing"' in page and "录音文件不存在" in page
    client.force_login(dispatcher)
    page = client.get(f"/tickets/{recorded.call.ticket_id}/").content.decode()
    assert "/api/v1/recordings/" not in page and 'data-testid="ticket-call"' in page


def recorded_path(recording):
    from django.conf import settings

    return settings.RECORDINGS_DIR / recording.name


def test_a_quality_checker_reads_the_ticket_and_plays_but_takes_no_action(recorded):
    quality = make_user("quality_sun", Role.QUALITY, "XT12345")
    client = Client()
    client.force_login(quality)
    page = client.get(f"/tickets/{recorded.call.ticket_id}/").content.decode()
    assert f'src="/api/v1/recordings/{recorded.pk}/"' in page
    assert "13800138000" not in page  # not center staff: the number masked
    assert client.post(f"/tickets/{recorded.call.ticket_id}/close/", {"note": "x"}).status_code == 403


def test_stop_recording_without_a_call_or_a_bridge_is_a_clear_message(agent, settings):
    settings.BRIDGE_COMMAND_TIMEOUT = 1
    client = Client()
    client.force_login(agent)
    response = client.post("/agent/stop-recording/")
    assert response.status_code == 200 and "当前没有进行中的通话" in response.content.decode()
    now = timezone.now()
    Call.objects.create(
        linkedid="7.7", caller_number="13800138000", agent=agent, agent_interface="PJSIP/1001",
        offered_at=now, answered_at=now,
    )  # fmt: skip
    console = client.get("/agent/").content.decode()
    assert 'data-testid="stop-recording"' in console
    response = client.post("/agent/stop-recording/")
    assert "话务桥接无响应" in response.content.decode()
    assert not Recording.objects.filter(stopped_on_request=True).exists()
