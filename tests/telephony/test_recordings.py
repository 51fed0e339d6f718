"""Call recordings: MixMonitor's events through the tracker, the simulator's files, the bridge's rows,
stopping at the caller's request, retention and fetching from the PBX."""

from __future__ import annotations

import asyncio
import http.server
import struct
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone

from hotline.models import AuditAction, AuditEntry, TimelineEntry
from telephony import recordings
from telephony.lifecycle import CallOffered, RecordingStarted, RecordingStopped
from telephony.models import Call, Recording
from telephony.simulator.recorder import SAMPLE, write_clip
from telephony.tracker import CallTracker
from tests.telephony.test_commands import _until, run_with_bridge

SNAPSHOT = {
    "Channel": "PJSIP/trunk-00000001",
    "CallerIDNum": "13800138000",
    "CallerIDName": "13800138000",
    "Uniqueid": "1795770144.1",
    "Linkedid": "1795770144.0",
}


def test_the_tracker_reports_mixmonitor_once_the_call_is_known():
    tracker = CallTracker()
    path = "/var/spool/asterisk/monitor/20261129/1795770144.0.wav"
    # MixMonitor runs before Queue(): its VarSet and MixMonitorStart come before QueueCallerJoin.
    assert tracker.feed({"Event": "VarSet", **SNAPSHOT, "Variable": "MIXMONITOR_FILENAME", "Value": path}) == []
    assert tracker.feed({"Event": "MixMonitorStart", **SNAPSHOT}, 10.0) == []
    out = tracker.feed({"Event": "QueueCallerJoin", **SNAPSHOT, "Queue": "12345", "Position": "1"}, 11.0)
    assert [type(e) for e in out] == [CallOffered, RecordingStarted]
    assert out[1].filename == path and out[1].channel == "PJSIP/trunk-00000001" and out[1].at == 10.0
    stopped = tracker.feed({"Event": "MixMonitorStop", **SNAPSHOT}, 20.0)
    assert [type(e) for e in stopped] == [RecordingStopped]
    # Repeats change nothing.
    assert tracker.feed({"Event": "MixMonitorStart", **SNAPSHOT}, 10.0) == []
    assert tracker.feed({"Event": "MixMonitorStop", **SNAPSHOT}, 20.0) == []


def test_file_names_stay_inside_the_recordings_directory(settings):
    settings.RECORDINGS_PBX_DIR = "/var/spool/asterisk/monitor"
    assert recordings.name_for("/var/spool/asterisk/monitor/20261129/1.2.wav", "1.2") == "20261129/1.2.wav"
    assert recordings.name_for("", "1.2") == "1.2.wav"
    assert recordings.name_for("/elsewhere/x.wav", "1.2") == "x.wav"
    with pytest.raises(recordings.InvalidInput):
        recordings.name_for("/var/spool/asterisk/monitor/../../etc/passwd", "1.2")


@pytest.mark.django_db
def test_a_wav_still_being_written_is_not_ready(settings, tmp_path):
    settings.RECORDINGS_DIR = tmp_path
    call = Call.objects.create(linkedid="1.1", ended_at=timezone.now())
    recording = Recording.objects.create(call=call, name="d/1.1.wav")
    with pytest.raises(FileNotFoundError):
        recordings.check_file(recording)
    (tmp_path / "d").mkdir()
    # As format_wav.c leaves it until it closes the file: sizes 0 in the header, audio after it.
    (tmp_path / "d/1.1.wav").write_bytes(
        SAMPLE.read_bytes()[:44].replace(SAMPLE.read_bytes()[4:8], b"\0\0\0\0", 1) + b"\1" * 800
    )
    with pytest.raises(recordings.NotReady):
        recordings.check_file(recording)
    write_clip(tmp_path / "d/1.1.wav", 1.0)
    state = recordings.check_file(recording)
    assert state.size == 44 + 16000
    # A live call's file is never served, whatever its header says.
    call.ended_at = None
    call.save()
    with pytest.raises(recordings.NotReady):
        recordings.check_file(recording)


@pytest.mark.django_db
def test_the_retention_job_deletes_old_files_and_keeps_the_rows(settings, tmp_path):
    settings.RECORDINGS_DIR, settings.RECORDINGS_RETENTION_DAYS = tmp_path, 30
    now = timezone.now()
    old = Recording.objects.create(
        call=Call.objects.create(linkedid="1.1", ended_at=now), name="old.wav", started_at=now - timedelta(days=31)
    )
    new = Recording.objects.create(
        call=Call.objects.create(linkedid="1.2", ended_at=now), name="new.wav", started_at=now - timedelta(days=29)
    )
    write_clip(tmp_path / "old.wav", 0.5)
    write_clip(tmp_path / "new.wav", 0.5)
    assert recordings.purge_expired(now) == 1
    assert not (tmp_path / "old.wav").exists() and (tmp_path / "new.wav").exists()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.purged_at == now and new.purged_at is None
    assert AuditEntry.objects.filter(action=AuditAction.RECORDING_PURGED).count() == 1
    assert recordings.purge_expired(now) == 0  # done once
    with pytest.raises(FileNotFoundError):
        recordings.check_file(old)
    # 0 keeps them forever
    settings.RECORDINGS_RETENTION_DAYS = 0
    assert recordings.purge_expired(now + timedelta(days=999)) == 0


class _PBXFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.django_db
def test_recordings_are_fetched_from_the_pbx_after_the_call(settings, tmp_path):
    pbx_dir, here = tmp_path / "pbx", tmp_path / "here"
    write_clip(pbx_dir / "20261129/1.1.wav", 0.5)
    (pbx_dir / "20261129/1.2.wav").write_bytes(b"RIFF\0\0\0\0WAVE" + b"\0" * 40)  # still being written
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _PBXFiles(*a, directory=str(pbx_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.RECORDINGS_DIR = here
        settings.RECORDINGS_FETCH_URL = f"http://127.0.0.1:{server.server_address[1]}/{{name}}"
        now = timezone.now()
        done = Recording.objects.create(
            call=Call.objects.create(linkedid="1.1", answered_at=now, ended_at=now), name="20261129/1.1.wav"
        )
        writing = Recording.objects.create(
            call=Call.objects.create(linkedid="1.2", answered_at=now, ended_at=now), name="20261129/1.2.wav"
        )
        abandoned = Recording.objects.create(
            call=Call.objects.create(linkedid="1.4", ended_at=now, outcome="abandoned"), name="20261129/1.4.wav"
        )
        live = Recording.objects.create(call=Call.objects.create(linkedid="1.3"), name="20261129/1.3.wav")
        with pytest.raises(recordings.NotReady):
            recordings.check_file(done)  # not fetched yet
        assert recordings.fetch_pending(now) == 1
        done.refresh_from_db()
        writing.refresh_from_db()
        assert done.fetched_at == now and recordings.check_file(done).size == 44 + 8000
        assert writing.fetched_at is None and "still being written" in writing.fetch_error
        assert sorted(p.name for p in (here / "20261129").iterdir()) == ["1.1.wav"]  # no half file left
        live.refresh_from_db()
        assert live.fetched_at is None and live.fetch_error == ""  # the call has not ended: not tried
        abandoned.refresh_from_db()
        assert abandoned.fetch_error == ""  # never bridged: MixMonitor wrote no file, none is asked for
        # The PBX closes the file: the next round takes it, but not once a day has passed since the call.
        write_clip(pbx_dir / "20261129/1.2.wav", 0.5)
        assert recordings.fetch_pending(now + timedelta(days=2)) == 0
        assert recordings.fetch_pending(now) == 1
        writing.refresh_from_db()
        assert writing.fetched_at == now and writing.fetch_error == ""
    finally:
        server.shutdown()


def _header_sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return struct.unpack("<I", data[4:8])[0], len(data)


@pytest.mark.django_db(transaction=True)
def test_the_simulated_pbx_records_answered_calls_and_stops_when_the_caller_asks(settings, agent, tmp_path):
    settings.RECORDINGS_DIR = tmp_path

    async def body(sim, messages):
        # A first call runs to its end: a Recording row, a complete WAV where the PBX said.
        await asyncio.wait_for(sim.queue_call("13800138000"), 20)

        def recorded():
            return Recording.objects.select_related("call").filter(call__ended_at__isnull=False).first()

        recording = await _until(database_sync_to_async(recorded), 10)
        path = tmp_path / recording.name
        assert recording.name.endswith(f"/{recording.call.linkedid}.wav")
        riff, size = _header_sizes(path)
        assert riff == size - 8 and size > 44 + 16000  # over a second of 8 kHz 16-bit audio
        assert (await sync_to_async(recordings.check_file)(recording)).size == size

        # A second caller asks not to be recorded: StopMixMonitor reaches the PBX, the row is marked.
        second = asyncio.create_task(sim.queue_call("13800138001"))

        def answered():
            return Call.objects.filter(caller_number="13800138001", answered_at__isnull=False).first()

        call = await _until(database_sync_to_async(answered), 15)
        await _until(database_sync_to_async(Recording.objects.filter(call=call).exists), 5)
        stopped = await sync_to_async(control_stop)(agent)
        assert stopped.stopped_on_request and stopped.stopped_by_id == agent.pk
        stop_action = next(m for action, m in reversed(sim.received) if action == "stopmixmonitor")
        assert stop_action.first("Channel").startswith("Local/13800138001@")
        await asyncio.wait_for(second, 20)
        assert await database_sync_to_async(
            AuditEntry.objects.filter(action=AuditAction.RECORDING_STOPPED, user=agent).exists
        )()
        # A second press is refused clearly: no call in progress.
        from telephony import control

        with pytest.raises(control.CommandFailed):
            await sync_to_async(control.stop_recording)(agent)

    run_with_bridge(settings, body, talk=(2.0, 2.0), recordings_dir=tmp_path, monitor_dir="/var/spool/asterisk/monitor")


def control_stop(agent):
    from telephony import control

    return control.stop_recording(agent)


def test_stopping_marks_the_ticket_timeline(agent, complaint):
    from hotline.services import tickets

    ticket = tickets.register_ticket(by=agent, phone="13800138000", content="路灯坏了", category=complaint)
    call = Call.objects.create(linkedid="9.9", caller_number="13800138000", ticket=ticket)
    recordings.mark_stopped_on_request(agent, {"pbx": call.pbx, "pbx_epoch": 0, "linkedid": "9.9", "filename": ""})
    assert TimelineEntry.objects.filter(ticket=ticket, action=recordings.STOPPED).exists()
    from django.utils import translation

    from web.timeline_text import describe, timeline_entries

    with translation.override("zh-hans"):
        lines = describe(timeline_entries(ticket))
    assert any(line.what == "应来电人要求停止通话录音" for line in lines), [line.what for line in lines]


def test_a_callbacks_recording_before_its_originate_response_is_kept_until_the_call_is_known():
    from telephony.lifecycle import CallbackOriginated

    tracker = CallTracker()
    leg = {"Channel": "PJSIP/1001-00000003", "Uniqueid": "1795770200.7", "Linkedid": "1795770200.7"}
    path = "/var/spool/asterisk/monitor/20261129/1795770200.7.wav"
    assert tracker.feed({"Event": "VarSet", **leg, "Variable": "MIXMONITOR_FILENAME", "Value": path}) == []
    assert tracker.feed({"Event": "MixMonitorStart", **leg}, 5.0) == []
    out = tracker.feed(
        {
            "Event": "OriginateResponse",
            "Response": "Success",
            "Channel": "PJSIP/1001-00000003",
            "Context": "callback",
            "Exten": "13800138000",
            "Uniqueid": "1795770200.7",
            "ActionID": "cb-1",
        },
        6.0,
    )
    assert [type(e) for e in out] == [CallbackOriginated, RecordingStarted]
    assert out[1].filename == path and out[1].channel == "PJSIP/1001-00000003"
