"""示闲/示忙: telephony.presence.set_agent_state tells the phone system first, then keeps status and reason."""

from __future__ import annotations

from unittest import mock

import pytest

from hotline.errors import InvalidInput, NotAllowed
from telephony import control
from telephony.models import AgentState
from telephony.presence import set_agent_state

pytestmark = pytest.mark.django_db


def commands(bridge: mock.Mock) -> list[tuple[str, dict]]:
    return [(c.args[0], c.kwargs) for c in bridge.call_args_list]


def test_a_pause_puts_the_phone_in_the_queue_paused_and_keeps_the_reason_on_the_row(agent):
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}) as bridge:
        state = set_agent_state(agent, "paused", "training")
    assert [name for name, _ in commands(bridge)] == ["queue_add", "pause"]
    assert commands(bridge)[1][1] == {"pbx": "main", "extension": "1001", "paused": True, "reason": "training"}
    assert (state.status, state.reason) == ("paused", "training")
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}) as bridge:
        state = set_agent_state(agent, "ready")
    assert [name for name, _ in commands(bridge)] == ["queue_add", "pause"]
    assert commands(bridge)[1][1] == {"pbx": "main", "extension": "1001", "paused": False}
    assert (state.status, state.reason) == ("ready", "")


def test_a_pause_without_a_reason_is_a_break_and_logging_off_leaves_the_queues(agent):
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}) as bridge:
        assert set_agent_state(agent, "paused").reason == "break"
        assert set_agent_state(agent, "offline").status == "offline"
    assert commands(bridge)[-1] == ("queue_remove", {"pbx": "main", "extension": "1001"})


def test_the_row_is_unchanged_when_the_phone_system_refuses(agent):
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}):
        set_agent_state(agent, "paused", "training")
    with (
        mock.patch("telephony.control.call_bridge", side_effect=control.BridgeUnavailable("down")),
        pytest.raises(control.BridgeUnavailable),
    ):
        set_agent_state(agent, "ready")
    assert AgentState.objects.get(user=agent).status == "paused"


def test_on_call_and_unknown_states_are_refused_before_the_bridge_is_asked(agent):
    with mock.patch("telephony.control.call_bridge") as bridge:
        for state in ("on_call", "lunch"):
            with pytest.raises(InvalidInput):
                set_agent_state(agent, state)
    assert not bridge.called and not AgentState.objects.exists()


def test_a_unit_handler_has_no_presence(yuhu):
    with mock.patch("telephony.control.call_bridge") as bridge, pytest.raises(NotAllowed):
        set_agent_state(yuhu, "ready")
    assert not bridge.called


def test_a_ready_pressed_after_the_pbx_was_asked_is_not_undone_by_its_older_answer(agent):
    """The bridge asks QueueStatus, the agent presses Ready meanwhile: the answer without them is older."""
    from datetime import timedelta

    from django.utils import timezone

    from telephony.presence import mark_absent

    asked = timezone.now()
    AgentState.objects.create(user=agent, status="ready", changed_at=asked + timedelta(milliseconds=50))
    assert mark_absent("main", set(), "Local/{extension}@agents", before=asked) == []
    assert mark_absent("main", {"Local/1001@agents"}, "Local/{extension}@agents", before=asked + timedelta(1)) == []
    assert mark_absent("main", set(), "Local/{extension}@agents", before=asked + timedelta(1)) == [agent.pk]
    assert AgentState.objects.get(user=agent).status == "offline"
