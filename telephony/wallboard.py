"""The live picture of each queue for the wallboard: callers waiting, longest wait, agents by state.

Pure: fed AMI member events and the tracker's waiting callers, it answers a
snapshot. Member events all carry the same fields (QueueMemberAdded/Removed/
Status/Pause and the QueueMember items of QueueStatus), so one reader serves all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telephony.tracker import CallTracker

MEMBER_EVENTS = frozenset({"QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMember"})
# What makes an interface a member on the board: its login, or the PBX listing it (QueueStatus).
# Status and pause changes only update members already there.
JOINING = frozenset({"QueueMemberAdded", "QueueMember"})
# ast_device_state numbers as Asterisk sends them in Status.
DEVICE_STATES = {"0": "unknown", "1": "ready", "2": "on_call", "3": "on_call", "4": "unavailable", "5": "unavailable"}
DEVICE_STATES |= {"6": "ringing", "7": "on_call", "8": "on_call"}


@dataclass
class Member:
    name: str
    state: str
    paused_reason: str = ""


@dataclass
class QueueBoard:
    queues: frozenset[str] = frozenset()
    members: dict[tuple[str, str], Member] = field(default_factory=dict)

    def follows(self, queue: str) -> bool:
        return not self.queues or queue in self.queues

    def feed(self, event: Mapping[str, Any]) -> bool:
        """Apply one AMI event; True when the picture changed."""
        name = event.get("Event")
        if name not in MEMBER_EVENTS and name != "QueueMemberRemoved":
            return False  # nearly every event: decided with one dict lookup
        queue = _get(event, "Queue")
        if not queue or not self.follows(queue):
            return False
        interface = _get(event, "Interface") or _get(event, "Location")
        key = (queue, interface)
        if name == "QueueMemberRemoved":
            return self.members.pop(key, None) is not None
        if name not in MEMBER_EVENTS or not interface:
            return False
        if name not in JOINING and key not in self.members:
            return False  # the state of an interface that never logged in: not an agent of this queue
        paused = _get(event, "Paused") == "1"
        state = "paused" if paused else DEVICE_STATES.get(_get(event, "Status"), "unknown")
        member = Member(
            name=_get(event, "MemberName") or _get(event, "Name") or interface,
            state=state,
            paused_reason=_get(event, "PausedReason") if paused else "",
        )
        if self.members.get(key) == member:
            return False
        self.members[key] = member
        return True

    def reset(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Start over from a QueueStatus list (after a reconnect)."""
        self.members.clear()
        for item in items:
            if _get(item, "Event") == "QueueMember":
                self.feed(item)

    def snapshot(self, tracker: CallTracker, now: float) -> dict[str, dict[str, Any]]:
        waiting = tracker.live_by_queue()
        out: dict[str, dict[str, Any]] = {}
        names = set(self.queues) | {q for q, _ in self.members} | {q for q in waiting if self.follows(q)}
        for queue in sorted(names):
            callers = waiting.get(queue, [])
            offered = [c.offered_at for c in callers if c.offered_at is not None]
            agents = {
                interface: {"name": m.name, "state": m.state, "reason": m.paused_reason}
                for (q, interface), m in sorted(self.members.items())
                if q == queue
            }
            counts: dict[str, int] = {}
            for agent in agents.values():
                counts[agent["state"]] = counts.get(agent["state"], 0) + 1
            out[queue] = {
                "waiting": len(callers),
                "longest_wait": int(max(0.0, now - min(offered))) if offered else 0,
                "agents": agents,
                "agent_counts": counts,
            }
        return out


def _get(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)
