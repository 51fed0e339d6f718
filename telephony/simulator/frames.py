"""Hand-built AMI frames, in the fields a real Asterisk 22 sends, for what no recording holds."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telephony.ami.protocol import Message

if TYPE_CHECKING:
    from telephony.simulator.replay import FreshIds

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
Frames = list[tuple[float, str]]  # (seconds after the call's start, frame text without terminator)


def response(status: str, action_id: str, **fields: object) -> bytes:
    lines = [f"Response: {status}"] + ([f"ActionID: {action_id}"] if action_id else [])
    lines += [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def event_text(name: str, **fields: object) -> str:
    return "\r\n".join([f"Event: {name}", *(f"{k}: {v}" for k, v in fields.items())])


def event(name: str, **fields: object) -> bytes:
    return (event_text(name, **fields) + "\r\n\r\n").encode()


def member_event_text(
    name: str, queue: str, iface: str, member: Mapping[str, str], busy: bool = False, penalty: int = 0
) -> str:
    """A member event; ``busy``: the member is on a call (Status 2 in use), as a pause during a call reports."""
    return event_text(
        name,
        Privilege="agent,all",
        Queue=queue,
        MemberName=member["MemberName"],
        Interface=iface,
        StateInterface=iface,
        Membership="dynamic",
        Penalty=penalty,
        CallsTaken=0,
        LastCall=0,
        LastPause=0,
        LoginTime=int(time.time()),
        InCall=int(busy),
        Status=2 if busy else 1,
        Paused=member["Paused"],
        PausedReason=member["PausedReason"],
        Ringinuse=0,
        Wrapuptime=0,
    )


@dataclass(frozen=True)
class QueuePicture:
    """What the queue holds now: waiting callers (QueueEntry fields), members on a call, calls taken."""

    entries: list[dict[str, str]] = field(default_factory=list)
    busy: frozenset[str] = frozenset()
    calls_taken: dict[str, int] = field(default_factory=dict)


Membership = tuple[str, str, Mapping[str, str], int]  # (queue, interface, member state, penalty)


def list_answer(
    action: str,
    action_id: str,
    queue: str,
    memberships: list[Membership],
    boot: int,
    picture: QueuePicture | None = None,
    queues: tuple[str, ...] = ("12345",),
) -> bytes:
    """The whole answer to a list action (QueueStatus, QueueSummary, CoreShowChannels): start, items, Complete.

    ``queue`` names the one asked for ("" = every queue in ``queues``); waiting callers' entries
    carry their own ``Queue``.
    """
    what = {"queuestatus": "Queue status", "queuesummary": "Queue summary", "coreshowchannels": "Channels"}[action]
    picture = picture or QueuePicture()
    asked = [queue] if queue else list(queues)
    out = [response("Success", action_id, EventList="start", Message=f"{what} will follow")]
    if action == "queuestatus":
        for name in asked:
            entries = [e for e in picture.entries if e.get("Queue", name) == name]
            out.append(
                event(
                    "QueueParams",
                    Queue=name,
                    Max=0,
                    Strategy="rrmemory",
                    Calls=len(entries),
                    Holdtime=0,
                    TalkTime=0,
                    Completed=0,
                    Abandoned=0,
                    ServiceLevel=20,
                    ServicelevelPerf="0.0",
                    ServicelevelPerf2="0.0",
                    Weight=0,
                    ActionID=action_id,
                )
            )
            for member_queue, iface, member, penalty in memberships:
                if member_queue != name:
                    continue
                out.append(
                    event(
                        "QueueMember",
                        Queue=name,
                        Name=member["MemberName"],
                        Location=iface,
                        StateInterface=iface,
                        Membership="dynamic",
                        Penalty=penalty,
                        CallsTaken=picture.calls_taken.get(iface, 0),
                        LastCall=0,
                        LastPause=0,
                        LoginTime=boot,
                        InCall=int(iface in picture.busy),
                        Status=2 if iface in picture.busy else 1,
                        Paused=member["Paused"],
                        PausedReason=member["PausedReason"],
                        Wrapuptime=0,
                        ActionID=action_id,
                    )
                )
            for position, entry in enumerate(entries, 1):
                fields = {k: v for k, v in entry.items() if k != "Queue"}
                out.append(event("QueueEntry", Queue=name, Position=position, **fields, Priority=0, ActionID=action_id))
        out.append(event("QueueStatusComplete", ActionID=action_id, EventList="Complete", ListItems=len(out) - 1))
    elif action == "queuesummary":
        for name in asked:
            members = [(i, m) for q, i, m, _ in memberships if q == name]
            out.append(
                event(
                    "QueueSummary",
                    Queue=name,
                    LoggedIn=len(members),
                    Available=sum(1 for i, m in members if m["Paused"] != "1" and i not in picture.busy),
                    Callers=sum(1 for e in picture.entries if e.get("Queue", name) == name),
                    HoldTime=0,
                    TalkTime=0,
                    LongestHoldTime=0,
                    ActionID=action_id,
                )
            )
        out.append(event("QueueSummaryComplete", ActionID=action_id, EventList="Complete", ListItems=len(asked)))
    else:
        out.append(event("CoreShowChannelsComplete", ActionID=action_id, EventList="Complete", ListItems=0))
    return b"".join(out)


def ivr_110_call(number: str = "13800000110") -> Frames:
    """No recording has an IVR: a caller who picks 110 in it, built from the fields Asterisk 22 sends."""
    base = (
        "Channel: Local/13800000110@callers-00000000;2",
        "Uniqueid: 1795770000.1",
        "Linkedid: 1795770000.0",
        f"CallerIDNum: {number}",
        f"CallerIDName: {number}",
    )

    def frame(name: str, privilege: str, *lines: str) -> str:
        return "\r\n".join((f"Event: {name}", f"Privilege: {privilege}", *base, *lines))

    return [
        (0.0, frame("Newchannel", "call,all", "Context: ivr", "Exten: 12345", "Priority: 1")),
        (
            2.0,
            frame(
                "VarSet",
                "dialplan,all",
                "Context: ivr",
                "Exten: 12345",
                "Priority: 4",
                "Variable: HOTLINE_IVR_CHOICE",
                "Value: 110",
            ),
        ),
        # The IVR's Goto: the jump itself is told with the old application, then the 110 context runs.
        (
            2.0,
            frame(
                "Newexten",
                "dialplan,all",
                "Context: emergency",
                "Exten: 110",
                "Priority: 1",
                "Application: Goto",
                "AppData: emergency,110,1",
                "Extension: 110",
            ),
        ),
        (
            2.0,
            frame(
                "Newexten",
                "dialplan,all",
                "Context: emergency",
                "Exten: 110",
                "Priority: 2",
                "Application: Dial",
                "AppData: PJSIP/110@police-trunk,60",
                "Extension: 110",
            ),
        ),
        (
            9.0,
            frame(
                "Hangup",
                "call,all",
                "Context: emergency",
                "Exten: 110",
                "Priority: 6",
                "Cause: 16",
                "Cause-txt: Normal Clearing",
            ),
        ),
    ]


def originate_response(
    action_id: str, channel: str, context: str, exten: str, uniqueid: str, caller: str, caller_name: str = ""
) -> str:
    """The event that reports an Async Originate's outcome (an *event* that also carries ``Response:``)."""
    return event_text(
        "OriginateResponse",
        Privilege="call,all",
        ActionID=action_id,
        Response="Success",
        Channel=channel,
        Context=context,
        Exten=exten,
        Reason="4",
        Uniqueid=uniqueid,
        CallerIDNum=caller,
        CallerIDName=caller_name or caller,
    )


def survey_call(
    originate: Message, ids: FreshIds, *, speed: float, variable: str = "HOTLINE_SURVEY_RESULT", digit: str = "1"
) -> Frames:
    """The frames of an IVR survey call for an Originate into the survey context.

    Shaped like the recorded callback Originate (Newchannel of both Local halves, the
    Originate's variables as VarSet on the first half, the dialplan's Newexten, then the
    OriginateResponse once the citizen answers), followed by the survey's ``VarSet
    <variable>=<digit>`` (none when ``digit`` is "": the citizen hung up without a key) and
    the Hangups, all times divided by ``speed``.
    """
    m = originate
    dialled = m.first("Channel")
    number = dialled.split("/", 1)[-1].split("@", 1)[0]
    context, exten = m.first("Context"), m.first("Exten") or "s"
    cid = m.first("CallerID")
    match = re.search(r"<([^>]*)>", cid)
    caller_id = (match.group(1) if match else cid) or "12345"
    uid1, uid2 = ids.uniqueid(), ids.uniqueid()
    seq = ids.local_seq()
    local = dialled.startswith("Local/")
    first = f"{dialled}-{seq};1" if local else f"{dialled}-{seq}"
    channels = [(first, uid1)] + ([(f"{dialled}-{seq};2", uid2)] if local else [])
    home_context = dialled.split("@", 1)[1] if "@" in dialled else "default"
    variables = dict(v.split("=", 1) for v in m.getlist("Variable") if "=" in v)

    def frame(name: str, privilege: str, channel: tuple[str, str], state: str, where, *lines: str) -> str:
        channel_name, uid = channel
        up = state == "Up"
        head = (
            f"Event: {name}",
            f"Privilege: {privilege}",
            f"Channel: {channel_name}",
            f"ChannelState: {6 if up else 0}",
            f"ChannelStateDesc: {state}",
            f"CallerIDNum: {caller_id if up else '<unknown>'}",
            f"CallerIDName: {caller_id if up else '<unknown>'}",
            f"ConnectedLineNum: {number if up else '<unknown>'}",
            f"ConnectedLineName: {number if up else '<unknown>'}",
            "Language: zh",
            "AccountCode: ",
            f"Context: {where[0]}",
            f"Exten: {where[1]}",
            f"Priority: {where[2]}",
            f"Uniqueid: {uid}",
            f"Linkedid: {uid1}",
        )
        return "\r\n".join((*head, *lines))

    dialling = (home_context, number, 1)
    frames = [(0.0, frame("Newchannel", "call,all", channel, "Down", dialling)) for channel in channels]
    frames += [
        (0.0, frame("VarSet", "dialplan,all", channels[0], "Down", dialling, f"Variable: {k}", f"Value: {v}"))
        for k, v in variables.items()
    ]
    answer = 1.0 / speed
    survey = (context, exten, 1)
    frames += [
        (answer, frame("Newstate", "call,all", channels[0], "Up", survey)),
        (
            answer,
            frame(
                "Newexten",
                "dialplan,all",
                channels[0],
                "Up",
                survey,
                f"Extension: {exten}",
                "Application: NoOp",
                f"AppData: 12345 revisit survey {variables.get('HOTLINE_REFERENCE', '')}",
            ),
        ),
        (answer, originate_response(m.first("ActionID"), first, context, exten, uid1, caller_id)),
    ]
    end = answer + 2.0 / speed
    if digit:
        where = (context, exten, 5)
        frames.append(
            (end, frame("VarSet", "dialplan,all", channels[0], "Up", where, f"Variable: {variable}", f"Value: {digit}"))
        )
    end += 0.5 / speed
    for channel in reversed(channels):
        frames.append(
            (
                end,
                frame(
                    "Hangup",
                    "call,all",
                    channel,
                    "Up",
                    (context, exten, 7),
                    "Cause: 16",
                    "Cause-txt: Normal Clearing",
                ),
            )
        )
    return frames
