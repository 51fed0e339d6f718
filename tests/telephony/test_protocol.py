"""The sans-IO AMI parser, fed with real Asterisk 22 bytes and with hostile input."""

from __future__ import annotations

from collections import Counter

import pytest

from telephony.ami.errors import InvalidAction
from telephony.ami.protocol import AMIParser, Message, ParseError, serialize_action
from tests.telephony.traces import TRACE_NAMES, parse_trace, trace_bytes, trace_chunks

# Event/response counts from telephony/traces/README.md.
EXPECTED_COUNTS = {
    "answered": (159, 5),
    "abandoned": (74, 5),
    "queue_timeout": (111, 7),
    "emergency_transfer": (153, 7),
    "emergency_transfer_blind": (175, 13),
    "callback_originate": (228, 15),
    "agent_pause": (346, 20),
    "restart": (169, 9),
    "busy_hour": (5500, 75),
    "threeway": (289, 8),
    "threeway_busy": (244, 8),
    "threeway_unit": (233, 9),
    "transfer_lost": (133, 8),
    "hold": (160, 10),
    "mute": (144, 9),
    "consult_transfer": (209, 7),
    "consult_busy": (197, 7),
    "consult_unreachable": (197, 7),
    "consult_cancel": (207, 8),
    "consult_extension": (198, 8),
    "blind_transfer": (143, 6),
    "hold_agent_gone": (155, 8),
    "hold_timeout": (183, 9),
}


def test_every_trace_has_expected_counts() -> None:
    assert set(TRACE_NAMES) == set(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", TRACE_NAMES)
def test_trace_parses_to_the_documented_counts(name: str) -> None:
    kinds = Counter(m.kind for m in parse_trace(name))
    assert (kinds["event"], kinds["response"]) == EXPECTED_COUNTS[name]
    assert kinds["banner"] == (2 if name == "restart" else 1)


@pytest.mark.parametrize("name", TRACE_NAMES)
def test_real_recv_chunks_give_the_same_messages_as_one_read(name: str) -> None:
    parser = AMIParser()
    chunked = [m for chunk in trace_chunks(name) for m in parser.feed(chunk)]
    assert chunked == parse_trace(name)
    assert parser.buffered == 0


def test_banner_then_login_response() -> None:
    first, second = AMIParser().feed(trace_bytes("answered")[:531])[:2]
    assert first.kind == "banner" and first.name == "Asterisk Call Manager/11.0.0"
    assert second.kind == "response" and second.name == "Success" and second.action_id == "answered-1"


def test_originate_response_is_an_event_although_it_carries_response() -> None:
    originate = [m for m in parse_trace("callback_originate") if m.get("Event") == "OriginateResponse"]
    assert [m.kind for m in originate] == ["event"] * 3
    assert [m.first("Response") for m in originate] == ["Success", "Success", "Failure"]
    assert originate[2].first("Uniqueid") == "<unknown>"


def test_duplicate_keys_are_kept_as_a_list() -> None:
    (msg,) = AMIParser(expect_banner=False).feed(
        b"Response: Success\r\nActionID: 7\r\nOutput: line one\r\nOutput: line two\r\nOutput: \r\n\r\n"
    )
    assert msg.getlist("Output") == ["line one", "line two", ""]
    assert msg.first("Output") == "line one"
    assert msg.getlist("Missing") == []


def test_cjk_name_split_inside_a_character_survives_byte_by_byte_feeding() -> None:
    frame = "Event: QueueCallerJoin\r\nCallerIDName: 王先生\r\nQueue: 12345\r\n\r\n".encode()
    parser = AMIParser(expect_banner=False)
    messages = [m for i in range(len(frame)) for m in parser.feed(frame[i : i + 1])]
    assert [m.first("CallerIDName") for m in messages] == ["王先生"]


def test_busy_hour_chinese_names_survive_byte_by_byte_feeding() -> None:
    data = trace_bytes("busy_hour")[:200_000]
    parser = AMIParser()
    names = {m.first("CallerIDName") for i in range(len(data)) for m in parser.feed(data[i : i + 1])}
    assert any("\u4e00" <= ch <= "\u9fff" for name in names for ch in name)
    assert not any("\ufffd" in name for name in names)


def test_timestamp_header_from_timestampevents_yes() -> None:
    (msg,) = AMIParser(expect_banner=False).feed(b"Event: Hangup\r\nTimestamp: 1795770144.123456\r\nCause: 16\r\n\r\n")
    assert msg.timestamp == pytest.approx(1795770144.123456)
    assert msg.first("Cause") == "16"


def test_frame_without_terminator_stays_buffered_until_completed() -> None:
    parser = AMIParser(expect_banner=False)
    assert parser.feed(b"Event: Hangup\r\nCause: 16\r\n") == []
    assert parser.buffered > 0
    (msg,) = parser.feed(b"\r\n")
    assert msg.name == "Hangup"


def test_one_megabyte_frame_is_reported_and_skipped() -> None:
    parser = AMIParser(expect_banner=False)
    huge = b"Event: Huge\r\nData: " + b"x" * 1_000_000 + b"\r\n\r\n"
    out = []
    for i in range(0, len(huge), 4096):
        out += parser.feed(huge[i : i + 4096])
    out += parser.feed(b"Event: Hangup\r\nCause: 16\r\n\r\n")
    assert [type(m) for m in out] == [ParseError, Message]
    assert out[0].reason == "frame too large"
    assert out[1].name == "Hangup"
    assert parser.buffered < 70_000  # the oversized frame never piled up in memory


def test_oversized_frame_arriving_in_one_read_is_skipped() -> None:
    parser = AMIParser(expect_banner=False, max_frame=100)
    out = parser.feed(b"Event: A\r\nX: " + b"y" * 500 + b"\r\n\r\nEvent: B\r\n\r\n")
    assert [m.kind for m in out] == ["error", "event"]
    assert out[1].name == "B"


def test_a_frame_of_exactly_the_limit_is_kept_when_its_terminator_comes_in_the_next_read() -> None:
    frame = b"Event: A\r\nX: " + b"y" * 87  # 100 bytes
    for split in range(len(frame), len(frame) + 4):  # the terminator cut after 0..3 of its bytes
        data = frame + b"\r\n\r\nEvent: B\r\n\r\n"
        parser = AMIParser(expect_banner=False, max_frame=100)
        out = parser.feed(data[:split]) + parser.feed(data[split:])
        assert [(m.kind, m.name) for m in out] == [("event", "A"), ("event", "B")], split
        assert out == AMIParser(expect_banner=False, max_frame=100).feed(data)


def test_a_first_line_over_the_limit_is_skipped_to_the_next_frame_in_one_read_or_many() -> None:
    data = b"Asterisk Call Manager/" + b"9" * 300 + b"\r\nEvent: Lost\r\n\r\nEvent: B\r\n\r\n"
    whole = AMIParser(max_frame=100).feed(data)
    parser = AMIParser(max_frame=100)
    pieces = [m for i in range(0, len(data), 10) for m in parser.feed(data[i : i + 10])]
    for out in (whole, pieces):
        assert [m.kind for m in out] == ["error", "event"]
        assert out[0].reason == "banner too large" and out[1].name == "B"


def test_an_action_reader_sees_no_banner_in_what_a_client_sends() -> None:
    out = AMIParser(actions=True).feed(b"Asterisk Call Manager/11.0.0\r\nAction: Ping\r\n\r\nAction: Ping\r\n\r\n")
    assert [m.kind for m in out] == ["error", "action"]
    assert out[0].reason == "not an action"


def test_binary_garbage_is_reported_and_parsing_resumes() -> None:
    parser = AMIParser(expect_banner=False)
    out = parser.feed(b"\xff\xfe\x00\x81garbage\x00\r\n\r\nEvent: Hangup\r\n\r\n")
    out += parser.feed(b"just text without keys\r\n\r\nEvent: Newstate\r\n\r\n")
    assert [m.kind for m in out] == ["error", "event", "error", "event"]
    assert out[0].reason.startswith("not UTF-8")
    assert out[2].reason == "neither Event nor Response"


def test_extra_blank_lines_between_frames_are_ignored() -> None:
    out = AMIParser(expect_banner=False).feed(b"Event: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n")
    assert [m.name for m in out] == ["A", "B"]


def test_missing_banner_does_not_eat_the_first_frame() -> None:
    out = AMIParser().feed(b"Response: Success\r\nActionID: 1\r\n\r\n")
    assert [m.kind for m in out] == ["response"]


def test_reset_drops_a_half_frame_from_a_closed_connection() -> None:
    parser = AMIParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\nEvent: Hangup\r\nChan")
    parser.reset()
    out = parser.feed(b"Asterisk Call Manager/11.0.0\r\nEvent: FullyBooted\r\n\r\n")
    assert [m.name for m in out] == ["Asterisk Call Manager/11.0.0", "FullyBooted"]


def test_serialize_action_repeats_list_values_and_orders_action_first() -> None:
    data = serialize_action(
        "Originate",
        {"Channel": "Local/1001@agents", "Variable": ["TICKET_ID=T1", "AGENT=1001"], "Async": True},
        action_id="cb-1",
    )
    assert data == (
        b"Action: Originate\r\nActionID: cb-1\r\nChannel: Local/1001@agents\r\n"
        b"Variable: TICKET_ID=T1\r\nVariable: AGENT=1001\r\nAsync: true\r\n\r\n"
    )
    (parsed,) = AMIParser(actions=True).feed(data)
    assert (parsed.kind, parsed.name, parsed.action_id) == ("action", "Originate", "cb-1")
    assert parsed.getlist("Variable") == ["TICKET_ID=T1", "AGENT=1001"]


def test_an_action_reader_takes_actions_byte_by_byte_and_nothing_else() -> None:
    parser = AMIParser(actions=True)  # the server side: no banner, frames whose first key is Action
    data = b"Action: Ping\r\nActionID: 7\r\n\r\nEvent: Hangup\r\n\r\nActionID: 8\r\nAction: Ping\r\n\r\n"
    out = [m for i in range(len(data)) for m in parser.feed(data[i : i + 1])]
    assert [(m.kind, m.name) for m in out[:1]] == [("action", "Ping")] and out[0].action_id == "7"
    assert [m.reason for m in out[1:]] == ["not an action", "not an action"]
    # And the client side never mistakes an action for something a PBX sends.
    (error,) = AMIParser(expect_banner=False).feed(b"Action: Ping\r\n\r\n")
    assert error.kind == "error"


@pytest.mark.parametrize("value", ["x\r\nAction: Hangup", "x\nY", "x\r"])
def test_serialize_action_refuses_injected_line_breaks(value: str) -> None:
    with pytest.raises(InvalidAction):
        serialize_action("QueuePause", {"Reason": value})
