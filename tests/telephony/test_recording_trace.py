"""The real Asterisk 22 recording of MixMonitor (telephony/traces/recording/) through the tracker and the calls."""

from __future__ import annotations

import shutil

import pytest

from telephony import recordings, services
from telephony.ami.protocol import AMIParser
from telephony.lifecycle import CallEnded, RecordingStarted, RecordingStopped
from telephony.models import Call, Recording
from telephony.traces import TRACES_DIR
from telephony.tracker import CallTracker, TrackerConfig

TRACE = TRACES_DIR / "recording"
FIRST, SECOND = "1795953264.0", "1795953284.4"


def replay():
    messages = AMIParser().feed((TRACE / "recording.ami").read_bytes())
    assert all(m.kind != "error" for m in messages)
    tracker = CallTracker(TrackerConfig(queues=frozenset({"12345"})))
    return [e for m in messages if m.kind == "event" for e in tracker.feed(m)]


def test_the_tracker_reads_the_real_mixmonitor_events():
    events = replay()
    started = {e.linkedid: e for e in events if isinstance(e, RecordingStarted)}
    assert started[FIRST].filename == f"/tmp/ast-h2/spool/monitor/20261129/{FIRST}.wav"
    assert started[FIRST].channel == "Local/13800138000@callers-00000000;2"
    assert started[SECOND].filename.endswith(f"/20261129/{SECOND}.wav")
    assert [e.linkedid for e in events if isinstance(e, RecordingStopped)] == [SECOND]
    assert {e.linkedid: e.outcome for e in events if isinstance(e, CallEnded)} == {
        FIRST: "answered",
        SECOND: "answered",
    }


@pytest.mark.django_db
def test_the_real_calls_get_their_recordings_and_the_real_file_is_whole(settings, tmp_path):
    settings.RECORDINGS_PBX_DIR, settings.RECORDINGS_DIR = "/tmp/ast-h2/spool/monitor", tmp_path
    for event in replay():
        services.apply_lifecycle(event)
    first = Recording.objects.get(call__linkedid=FIRST)
    second = Recording.objects.get(call__linkedid=SECOND)
    assert first.name == f"20261129/{FIRST}.wav" and first.stopped_at is None
    assert second.name == f"20261129/{SECOND}.wav" and second.stopped_at is not None
    assert Call.objects.get(linkedid=SECOND).ended_at is not None
    # The file Asterisk wrote for the second call (1.62 s, header written at close) is served as whole.
    (tmp_path / "20261129").mkdir()
    shutil.copy(TRACE / f"{SECOND}.wav", tmp_path / second.name)
    assert recordings.check_file(second).size == (TRACE / f"{SECOND}.wav").stat().st_size
    with pytest.raises(FileNotFoundError):
        recordings.check_file(first)  # not copied: missing


def _blocks(data: str, name: str) -> list[str]:
    return [b for b in data.split("\r\n\r\n") if b.startswith(f"Event: {name}\r\n")]


def test_the_simulator_speaks_like_the_real_mixmonitor(tmp_path):
    from telephony.simulator.recorder import Recorder, snapshot

    real = (TRACE / "recording.ami").read_bytes().decode()
    join = _blocks(real, "QueueCallerJoin")[0]
    recorder = Recorder(tmp_path, "/tmp/ast-h2/spool/monitor")
    varset, start = recorder.start(FIRST, snapshot(join), "Local/13800138000@callers-00000000;2")
    real_varset = next(b for b in _blocks(real, "VarSet") if "MIXMONITOR_FILENAME" in b)
    real_start = _blocks(real, "MixMonitorStart")[0]
    # Same fields in the same order, the same values but the file's date (the simulator's today).
    assert [line.split(":")[0] for line in varset.split("\r\n")] == [
        line.split(":")[0] for line in real_varset.split("\r\n")
    ]
    assert start == real_start
    recorder.bridged("Local/13800138000@callers-00000000;2")
    stop = recorder.stop("Local/13800138000@callers-00000000;2")
    real_stop = _blocks(real, "MixMonitorStop")[0]
    assert (
        stop.replace("13800138000@callers-00000000", "13800138001@callers-00000002")
        .replace("1795953264.1", "1795953284.5")
        .replace(FIRST, SECOND)
        .replace("13800138000", "13800138001")
        == real_stop
    )


def test_a_real_callback_is_recorded_under_its_linkedid():
    """[callback] with MixMonitor on the agent's originated leg: OriginateResponse first, then the recording."""
    messages = AMIParser().feed((TRACE / "callback.ami").read_bytes())
    tracker = CallTracker()
    events = [e for m in messages if m.kind == "event" for e in tracker.feed(m)]
    assert [type(e).__name__ for e in events] == ["CallbackOriginated", "RecordingStarted", "CallEnded"]
    linkedid = events[0].linkedid
    assert events[1].filename == f"/tmp/ast-h2/spool/monitor/20261129/{linkedid}.wav"
    assert events[1].channel.startswith("Local/1001@agents-cb-") and events[2].outcome == "callback"
