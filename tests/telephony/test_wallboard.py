"""The wallboard's picture, built from the real agent_pause and busy_hour recordings."""

from __future__ import annotations

from telephony.tracker import CallTracker, TrackerConfig
from telephony.wallboard import QueueBoard
from tests.telephony.traces import parse_trace


def play(name: str):
    tracker = CallTracker(TrackerConfig(queues=frozenset({"12345"})))
    board = QueueBoard(frozenset({"12345"}))
    pictures = []
    for message in parse_trace(name):
        if message.kind != "event":
            continue
        tracker.feed(message, at=0.0)
        if board.feed(message):
            pictures.append(board.snapshot(tracker, now=5.0)["12345"])
    return board, tracker, pictures


def test_a_lunch_pause_shows_with_its_reason_and_ends():
    _board, _tracker, pictures = play("agent_pause")
    paused = [p["agents"]["Local/1002@agents"] for p in pictures if "Local/1002@agents" in p["agents"]]
    assert {"name": "agent1002", "state": "paused", "reason": "lunch"} in paused
    assert paused[-1]["state"] != "paused" or paused[-1]["reason"] != "lunch"
    states = {a["state"] for p in pictures for a in p["agents"].values()}
    assert {"ready", "on_call", "paused"} <= states


def test_the_busy_hour_board_counts_agents_and_waiting_callers():
    _board, _tracker, pictures = play("busy_hour")
    assert any(p["agent_counts"].get("on_call", 0) >= 2 for p in pictures)
    assert any(p["agent_counts"].get("paused") == 1 for p in pictures)  # 1002's toilet break
    assert any(p["waiting"] >= 1 and p["longest_wait"] == 5 for p in pictures)
    assert all(set(p["agents"]) <= {"Local/1001@agents", "Local/1002@agents", "Local/1003@agents"} for p in pictures)


def test_a_queue_we_do_not_follow_changes_nothing():
    board = QueueBoard(frozenset({"12345"}))
    event = {"Event": "QueueMemberStatus", "Queue": "other", "Interface": "Local/1@x", "Status": "1", "Paused": "0"}
    assert board.feed(event) is False and board.members == {}


def test_removal_takes_the_agent_off_the_board():
    board = QueueBoard()
    added = {"Event": "QueueMemberAdded", "Queue": "12345", "Interface": "Local/1001@agents", "Status": "1"}
    assert board.feed(added)
    assert board.feed({**added, "Event": "QueueMemberRemoved"})
    assert board.members == {}


def test_an_interface_that_never_logged_in_stays_off_the_board():
    """A device state of an interface that is no member (never QueueAdd'ed, not in QueueStatus) is no agent."""
    board = QueueBoard(frozenset({"12345"}))
    status = {"Event": "QueueMemberStatus", "Queue": "12345", "Interface": "Local/1003@agents", "Status": "1"}
    assert board.feed(status) is False
    assert board.feed({**status, "Event": "QueueMemberPause", "Paused": "0"}) is False
    assert board.members == {}
    board.reset([{**status, "Event": "QueueMember", "Location": "Local/1003@agents", "Name": "agent1003"}])
    assert board.feed({**status, "Status": "2"})
    assert board.snapshot(CallTracker(), now=0.0)["12345"]["agent_counts"] == {"on_call": 1}
