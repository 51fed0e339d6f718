"""Call records written from replayed real traces; idempotency; the wallboard and call messages."""

from __future__ import annotations

import pytest

from hotline.models import Caller
from telephony import services
from telephony.lifecycle import CallEnded
from telephony.models import Call, CallEvent
from telephony.tracker import CallTracker, TrackerConfig
from tests.telephony.traces import parse_trace, replay

pytestmark = pytest.mark.django_db


def record(name: str, *, twice: bool = False) -> None:
    tracker = CallTracker(TrackerConfig(queues=frozenset({"12345"})), pbx_epoch=1795770000)
    for message in parse_trace(name):
        if message.kind != "event":
            continue
        lifecycle = tracker.feed(message)
        raw = [message] if tracker.interested_in(message) else []
        for event in lifecycle:
            services.apply_lifecycle(event, raw)
            if twice:
                services.apply_lifecycle(event, raw)
        if raw and not lifecycle:
            call = Call.objects.filter(linkedid=message.first("Linkedid")).first()
            if call is not None:
                services.store_raw_events(call, raw)


def test_answered_trace_writes_one_call_with_caller_and_agent(agent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        record("answered")
    call = Call.objects.get()
    assert call.linkedid == "1795770144.0" and call.pbx_epoch == 1795770000
    assert call.outcome == "answered" and call.queue == "12345"
    assert (call.wait_seconds, call.talk_seconds) == (1, 3)
    assert call.caller == Caller.objects.get(phone="+8613800138000")
    assert call.agent == agent and call.agent_interface == "Local/1001@agents" and call.agent_name == "agent1001"
    assert call.offered_at and call.answered_at and call.ended_at
    assert call.events.filter(name="AgentConnect").count() == 1


def test_busy_hour_gives_22_answered_and_28_abandoned() -> None:
    record("busy_hour")
    assert Call.objects.count() == 50
    assert Call.objects.filter(outcome="answered").count() == 22
    assert Call.objects.filter(outcome="abandoned").count() == 28
    assert not Call.objects.filter(ended_at__isnull=True).exists()
    assert Caller.objects.filter(name="王先生").exists()


def test_applying_every_event_twice_changes_nothing() -> None:
    record("emergency_transfer", twice=True)
    first = list(Call.objects.values())
    events = CallEvent.objects.count()
    record("emergency_transfer")
    assert list(Call.objects.values()) == first
    assert CallEvent.objects.count() == events
    assert first[0]["outcome"] == "transferred_110"


def test_failed_callback_creates_no_call_but_successful_ones_do() -> None:
    record("callback_originate")
    assert sorted(Call.objects.values_list("caller_number", "outcome")) == [
        ("13800138000", "callback"),
        ("13900000000", "callback"),
    ]


def test_raw_events_per_call_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(services, "MAX_EVENTS_PER_CALL", 5)
    record("answered")
    assert CallEvent.objects.count() == 5


def test_a_batchs_raw_events_are_bounded_per_call_and_stored_once(monkeypatch) -> None:
    monkeypatch.setattr(services, "MAX_EVENTS_PER_CALL", 3)
    full, fresh = Call.objects.create(linkedid="1.0"), Call.objects.create(linkedid="2.0")

    def events(linkedid: str, n: int, first: int = 0) -> list[dict[str, str]]:
        return [{"Event": "VarSet", "Linkedid": linkedid, "Value": str(i)} for i in range(first, first + n)]

    assert services.store_raw_events(full, events("1.0", 2)) == 2
    # One batch: the first call has room for one more, the second for three; repeats are stored once.
    stored = services.store_raw_events_of_calls({full: events("1.0", 4, first=2), fresh: events("2.0", 2) * 2})
    assert stored == 1 + 3  # rows offered within each call's room (the repeat among them is then skipped)
    assert sorted(e.payload["Value"] for e in CallEvent.objects.filter(call=full)) == ["0", "1", "2"]
    assert sorted(e.payload["Value"] for e in CallEvent.objects.filter(call=fresh)) == ["0", "1"]
    assert services.store_raw_events_of_calls({full: events("1.0", 5), fresh: []}) == 0


def test_a_batchs_raw_only_steps_join_their_stored_calls_of_this_boot() -> None:
    this_boot = Call.objects.create(linkedid="1.0", pbx_epoch=5)
    other_boot = Call.objects.create(linkedid="1.0", pbx_epoch=4)

    def step(linkedid: str, epoch: int, value: str) -> services.Step:
        return services.Step(raw=[{"Event": "VarSet", "Value": value}], linkedid=linkedid, pbx_epoch=epoch)

    touched = services.apply_batch([step("1.0", 5, "a"), step("9.9", 5, "nobody's"), step("1.0", 5, "b")])
    assert touched == 1
    assert sorted(e.payload["Value"] for e in CallEvent.objects.filter(call=this_boot)) == ["a", "b"]
    assert not CallEvent.objects.filter(call=other_boot).exists() and CallEvent.objects.count() == 2


def test_prune_deletes_old_raw_events(settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    record("abandoned")
    assert CallEvent.objects.exists()
    settings.TELEPHONY_EVENT_RETENTION_DAYS = 1
    assert services.prune_call_events(now=timezone.now() + timedelta(days=2)) > 0
    assert not CallEvent.objects.exists()


def test_prune_takes_a_bounded_batch_a_round_oldest_first(settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    record("abandoned")
    total = CallEvent.objects.count()
    newest = CallEvent.objects.order_by("-received_at", "-pk").first()
    settings.TELEPHONY_EVENT_RETENTION_DAYS = 1
    later = timezone.now() + timedelta(days=2)
    assert services.prune_call_events(now=later, batch=total - 1) == total - 1
    assert list(CallEvent.objects.all()) == [newest]
    assert services.prune_call_events(now=later, batch=total - 1) == 1
    assert services.prune_call_events(now=later) == 0


def test_unnormalisable_number_keeps_the_raw_number_without_caller() -> None:
    tracker = CallTracker()
    join = {"Event": "QueueCallerJoin", "Queue": "q", "Linkedid": "1.0", "Uniqueid": "1.0", "CallerIDNum": "anonymous"}
    from telephony.ami.protocol import Message

    for event in tracker.feed(Message("event", join)):
        services.apply_lifecycle(event)
    call = Call.objects.get()
    assert call.caller is None and call.caller_number == "anonymous"


def test_close_vanished_calls_after_reconnect() -> None:
    Call.objects.create(linkedid="1.0", pbx_epoch=5)
    Call.objects.create(linkedid="2.0", pbx_epoch=5, answered_at="2026-01-01T00:00:00Z")
    Call.objects.create(linkedid="3.0", pbx_epoch=5)
    closed = services.close_vanished_calls(pbx_epoch=5, live_linkedids=["3.0"])
    # Both end as unknown (we did not see how); the answered one keeps its answer time for the answer rate.
    assert {c.linkedid: c.outcome for c in closed} == {"1.0": "unknown", "2.0": "unknown"}
    assert Call.objects.get(linkedid="2.0").answered_at is not None
    assert Call.objects.get(linkedid="3.0").ended_at is None


def test_pbx_epoch_is_stable_across_bridge_restarts() -> None:
    Call.objects.create(linkedid="1.0", pbx_epoch=1000)
    assert services.resolve_pbx_epoch(1002) == 1000
    assert services.resolve_pbx_epoch(2000) == 2000


def test_call_messages_go_to_the_wallboard_and_the_agent_without_personal_history(
    agent, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr("hotline.events._send", lambda groups, event: sent.append((groups, event)))
    with django_capture_on_commit_callbacks(execute=True):
        record("answered")
    # The screen pop is the bridge's to send, at once (ringing_pop); the lifecycle messages carry no history.
    assert not [e for _, e in sent if e["type"] == "call.screen_pop" or "previous_tickets" in e]
    # The wallboard gets what changes today's figures; the agent's console every step of its call.
    types = [e["type"] for g, e in sent if "wallboard" in g]
    assert types == ["call.offered", "call.answered", "call.ended"]
    mine = [e["type"] for g, e in sent if f"agent.{agent.pk}" in g]
    assert mine == ["call.answered", "call.agent_released", "call.ended"]  # ringing: the bridge's screen pop
    assert all(f"agent.{agent.pk}" in g for g, e in sent if e["type"] in ("call.answered", "call.ended"))


def test_final_summary_matches_tracker() -> None:
    record("queue_timeout")
    (ended,) = [e for e in replay("queue_timeout")[1] if isinstance(e, CallEnded)]
    call = Call.objects.get()
    assert (call.outcome, call.wait_seconds) == (ended.outcome, ended.wait_seconds) == ("timeout", 8)
