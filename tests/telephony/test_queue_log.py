"""Asterisk's queue_log (telephony/traces/outage/*.queue_log, real Asterisk 22): parsing and incremental reads."""

from __future__ import annotations

import pytest

from telephony.queue_log import QueueLogReader, parse_line, summarize
from telephony.traces import TRACES_DIR

OUTAGE = TRACES_DIR / "outage"


def _lines(name: str):
    return [parse_line(raw) for raw in (OUTAGE / f"{name}.queue_log").read_text().splitlines()]


def test_every_caller_of_the_gap_scenario_has_the_outcome_the_pbx_wrote() -> None:
    calls = summarize(_lines("client_gap"))
    outcomes = {c.caller_number: c.outcome for c in calls.values()}
    assert len(outcomes) == 25
    assert list(outcomes.values()).count("answered") == 17
    assert list(outcomes.values()).count("abandoned") == 4
    assert list(outcomes.values()).count("timeout") == 4
    # #10: RINGNOANSWER then CONNECT of the same member; answered, wait 4, talk 15.
    ten = next(c for c in calls.values() if c.caller_number == "17494749569")
    assert (ten.outcome, ten.member_name, ten.wait_seconds, ten.talk_seconds) == ("answered", "agent1003", 4, 15)
    # #11, wholly in the gap: entered at 1795925267, abandoned after 5 s.
    eleven = calls[(1, "1795925267.47")]
    assert (eleven.entered_at, eleven.outcome, eleven.wait_seconds, eleven.ended_at) == (
        1795925267,
        "abandoned",
        5,
        1795925272,
    )


def test_lines_before_a_pbx_restart_belong_to_the_boot_before() -> None:
    calls = summarize(_lines("pbx_down"))
    before = {c.caller_number: c.outcome for (boot, _), c in calls.items() if boot == 0}
    after = {c.caller_number: c.outcome for (boot, _), c in calls.items() if boot == 1}
    assert before == {"13800000001": "answered", "13800000002": "abandoned"}
    assert after == {
        "13800000003": "answered",
        "13800000004": "abandoned",
        "13800000005": "timeout",
        "13800000006": "answered",
    }


def test_exitempty_is_refused_and_refused_at_the_door_writes_nothing() -> None:
    calls = summarize(_lines("refused"))
    assert {c.caller_number: c.outcome for c in calls.values()} == {
        "13900000011": "abandoned",
        "13900000023": "refused",
    }


def test_unknown_events_and_malformed_lines_are_skipped() -> None:
    stats: dict[str, int] = {}
    lines = [
        parse_line("1795925300|1.1|12345|NONE|ENTERQUEUE||13800000001|1"),
        parse_line("1795925301|1.1|12345|NONE|SOMETHINGNEW|x|y"),
        parse_line("1795925305|1.1|12345|NONE|ABANDON|1|1|5"),
    ]
    assert parse_line("not a line") is None and parse_line("abc|1.1|q|NONE|ABANDON") is None
    calls = summarize(lines, stats)
    assert stats == {"unknown_events": 1}
    assert calls[(1, "1.1")].outcome == "abandoned"


def test_the_reader_reads_what_was_appended_and_survives_rotation(tmp_path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1795925000|MANAGER|12345|Local/1001@agents|ADDMEMBER|\n")
    reader = QueueLogReader(str(path))
    assert reader.read(None) == []  # nothing recorded yet: start at the end
    with path.open("a") as handle:
        handle.write("1795925300|1.1|12345|NONE|ENTERQUEUE||13800000001|1\nnot a line\n1795925305|1.1|12345|NO")
    first = reader.read()
    assert [line.event for line in first] == ["ENTERQUEUE"] and reader.malformed == 1
    with path.open("a") as handle:
        handle.write("NE|ABANDON|1|1|5\n")
    assert [line.event for line in reader.read()] == ["ABANDON"]  # the half line waited for its end
    assert reader.read() == []
    path.write_text("1795925400|2.1|12345|NONE|ENTERQUEUE||13800000002|1\n")  # rotated: shorter, new file
    assert [line.callid for line in reader.read()] == ["2.1"]


def test_a_fresh_reader_starts_shortly_before_the_newest_recorded_call(tmp_path) -> None:
    path = tmp_path / "queue_log"
    lines = [f"{1795900000 + i * 60}|{i}.1|12345|NONE|ENTERQUEUE||138{i:08d}|1\n" for i in range(2000)]
    path.write_text("".join(lines))
    reader = QueueLogReader(str(path), margin=3600)
    read = reader.read(since=1795900000 + 1500 * 60)
    assert read[0].time <= 1795900000 + 1440 * 60 and read[0].time > 1795900000 + 1300 * 60
    assert read[-1].callid == "1999.1"


def test_a_missing_file_is_no_crash(tmp_path) -> None:
    assert QueueLogReader(str(tmp_path / "absent")).read(123.0) == []


@pytest.mark.django_db
def test_recovery_is_idempotent_and_corrects_only_what_the_pbx_knows_better() -> None:
    from datetime import UTC, datetime

    from telephony.models import Call
    from telephony.queue_log import LoggedCall
    from telephony.services import recover_logged_calls

    def at(t: int) -> datetime:
        return datetime.fromtimestamp(t, tz=UTC)

    # Ended unseen (unknown), closed as abandoned while an agent answered, a genuine abandon, and a row
    # of an older bridge that never stored the caller's Uniqueid.
    Call.objects.create(pbx_epoch=1, linkedid="1.0", caller_uniqueid="1.1", outcome="unknown", ended_at=at(120))
    Call.objects.create(pbx_epoch=1, linkedid="2.0", caller_uniqueid="2.1", outcome="abandoned", ended_at=at(130))
    Call.objects.create(pbx_epoch=1, linkedid="3.0", caller_uniqueid="3.1", outcome="abandoned", ended_at=at(140))
    Call.objects.create(pbx_epoch=1, linkedid="4.0", caller_number="13800000004", offered_at=at(100))
    records = [
        LoggedCall("1.1", 1, "12345", "13800000001", 100, 102, "agent1001", "", 2, 10, "answered", 112),
        LoggedCall("2.1", 1, "12345", "13800000002", 100, 105, "agent1002", "", 5, 20, "answered", 125),
        LoggedCall("3.1", 1, "12345", "13800000003", 100, None, "", "", 40, None, "timeout", 140),
        LoggedCall("4.1", 1, "12345", "13800000004", 100, None, "", "", 9, None, "abandoned", 109),
        LoggedCall("5.1", 1, "12345", "13800000005", 200, None, "", "", 5, None, "abandoned", 205),
        LoggedCall("6.1", 1, "12345", "13800000006", 300, None, "", "", None, None, "", None),  # still waiting
    ]
    interfaces = {"agent1001": "Local/1001@agents"}
    recover_logged_calls(1, records, interfaces)
    recover_logged_calls(1, records, interfaces)  # read twice: nothing changes
    calls = {c.linkedid: c for c in Call.objects.all()}
    assert len(calls) == 5
    assert (calls["1.0"].outcome, calls["1.0"].answered_at, calls["1.0"].talk_seconds) == ("answered", at(102), 10)
    assert calls["1.0"].agent_interface == "Local/1001@agents"
    assert calls["2.0"].outcome == "answered"  # the PBX connected it: never a missed call
    assert calls["3.0"].outcome == "abandoned"  # a decided outcome is not overwritten
    assert (calls["4.0"].outcome, calls["4.0"].caller_uniqueid) == ("abandoned", "4.1")
    assert (calls["5.1"].outcome, calls["5.1"].caller_number, calls["5.1"].offered_at) == (
        "abandoned",
        "13800000005",
        at(200),
    )
