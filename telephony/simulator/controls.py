"""The recorded call controls (hold, consult and blind transfer) as segments a simulated call plays.

Each segment is cut from a real Asterisk 22.10.1 recording (telephony/traces/hold.ami, consult_*.ami,
blind_transfer.ami) at the moments the agent acted, and rewritten into the ids of the answered
recording (``replay._into``), so one ``CallIds`` renders them with the rest of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from telephony.simulator.frames import Frames
from telephony.simulator.replay import Template, _index, _name, _release, _segment, load_template
from telephony.simulator.replay import _into as _into_ids
from telephony.traces import TRACES_DIR

# The numbers the recordings dialled: a unit's phone that answers, one that is busy, one unreachable.
ANSWERS, BUSY, UNREACHABLE = "073155558888", "073155550000", "073155559999"


@dataclass(frozen=True)
class ControlModel:
    hold: Frames  # the caller to the holding bridge: ... MusicOnHoldStart
    unhold: Frames  # the agent's Bridge() with the caller: ... BridgeEnter of both
    held_end: Frames  # the caller hangs up after a hold (AgentComplete Reason caller)
    consult: Frames  # Atxfer: Hold, music, the consulted leg rings and answers (DialEnd ANSWER)
    consult_done: Frames  # the agent left: AttendedTransfer, AgentComplete transfer, ... the call ends
    consult_cancel: Frames  # CancelAtxfer: the agent back with the caller, the consulted leg hung up
    consult_busy: Frames  # Atxfer to a busy number: DialEnd BUSY ... MusicOnHoldStop, Unhold
    consult_unreachable: Frames  # ... DialEnd CONGESTION ...
    blind: Frames  # BlindTransfer to a unit: BlindTransfer, AgentComplete transfer, ... the call ends
    held_end_release: float
    consult_done_release: float
    blind_release: float


def _hangup_at(frames, after: int) -> int:
    """The first frame of the TCP read in which the caller's hang-up (their first BridgeLeave after
    ``after``) came: what comes before is the control's, what follows is the call's end."""
    leave = _index(frames, "BridgeLeave", after, where="@callers-")
    when = frames[leave][0]
    return next(i for i, (at, _) in enumerate(frames) if i > after and at >= when)


def _queue_bridge(template: Template) -> str:
    """The BridgeUniqueid of the bridge Queue() put the caller and the agent in."""
    connect = _index(template.frames, "AgentConnect")
    text = template.frames[_index(template.frames, "BridgeEnter", connect)][1]
    return text.split("BridgeUniqueid: ", 1)[1].split("\r\n", 1)[0]


def load_controls(base: Template, traces_dir: Path = TRACES_DIR) -> ControlModel:
    """The segments, in ``base``'s ids: its caller and agent legs, and its queue bridge (the agent goes
    back into it after a consultation: the same bridge as the caller's)."""
    ours = _queue_bridge(base)

    def _into(base: Template, other: Template, frames: Frames) -> Frames:
        theirs = _queue_bridge(other)
        return [(at, text.replace(theirs, ours)) for at, text in _into_ids(base, other, frames)]

    held = load_template("hold", traces_dir)
    h = held.frames
    hold_start = _index(h, "Newexten", where="Context: hotline-hold")
    hold_end = _index(h, "MusicOnHoldStart", hold_start)
    unhold_start = _index(h, "Newexten", hold_end, where="Context: hotline-unhold")
    unhold_end = _hangup_at(h, _index(h, "BridgeEnter", unhold_start, where="@agents-"))
    held_end = _segment(h, unhold_end)

    consulted = load_template("consult_transfer", traces_dir)
    c = consulted.frames
    start = _index(c, "VarSet", where="Variable: TRANSFER_CONTEXT")
    answer = _index(c, "DialEnd", start, where="DestContext: hotline-transfer")
    merge = _index(c, "BridgeMerge", answer)
    done = _segment(c, merge)

    cancelled = load_template("consult_cancel", traces_dir)
    x = cancelled.frames
    x_answer = _index(x, "DialEnd", _index(x, "VarSet", where="Variable: TRANSFER_CONTEXT"), where="hotline-transfer")
    x_back = _index(x, "BridgeLeave", x_answer, where="@agents-")

    def failed(name: str) -> Frames:
        recorded = load_template(name, traces_dir)
        f = recorded.frames
        begin = _index(f, "VarSet", where="Variable: TRANSFER_CONTEXT")
        return _into(base, recorded, _segment(f, begin, _hangup_at(f, begin)))

    blind_transfer = load_template("blind_transfer", traces_dir)
    b = blind_transfer.frames
    blind = _into(base, blind_transfer, _segment(b, _index(b, "Unhold")))
    return ControlModel(
        hold=_into(base, held, _segment(h, hold_start, hold_end + 1)),
        unhold=_into(base, held, _segment(h, unhold_start, unhold_end)),
        held_end=_into(base, held, held_end),
        consult=_into(base, consulted, _segment(c, start, merge)),
        consult_done=_into(base, consulted, done),
        consult_cancel=_into(base, cancelled, _segment(x, x_back, _hangup_at(x, x_back))),
        consult_busy=failed("consult_busy"),
        consult_unreachable=failed("consult_unreachable"),
        blind=blind,
        held_end_release=_release(held_end),
        consult_done_release=_release(done),
        blind_release=_release(blind),
    )


def dialled(frames: Frames, recorded: str, number: str) -> Frames:
    """A recorded segment with the number the agent asked for in place of the recorded one."""
    return [(at, text.replace(recorded, number)) for at, text in frames]


__all__ = ["ANSWERS", "BUSY", "UNREACHABLE", "ControlModel", "_name", "dialled", "load_controls"]
