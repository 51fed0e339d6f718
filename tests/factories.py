"""Tickets set up through the real services, at any step of the lifecycle; agents' presence likewise."""

from __future__ import annotations

from unittest import mock

from hotline.models import Area, Category, Ticket, Topic, Unit, User
from hotline.services import dispatch, tickets
from hotline.services.assignments import current_lead
from telephony import presence
from telephony.models import AgentState


def new_ticket(
    agent: User,
    *,
    category: str = "complaint",
    topic: str | None = "0201",
    area: str | None = "YH01",
    phone: str = "13800138000",
    content: str = "小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
    address: str = "雨湖区城正街88号",
    **extra,
) -> Ticket:
    return tickets.register_ticket(
        by=agent,
        phone=phone,
        content=content,
        category=Category.objects.get(code=category),
        topic=Topic.objects.get(code=topic) if topic else None,
        area=Area.objects.get(code=area) if area else None,
        address=address,
        **extra,
    )


def dispatched_ticket(agent: User, lead: str = "YH", **extra) -> Ticket:
    ticket = new_ticket(agent, **extra)
    dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code=lead))
    ticket.refresh_from_db()
    return ticket


def lead_assignment(ticket: Ticket):
    return current_lead(ticket)


def set_presence(agent: User, state: str, reason: str = "") -> AgentState:
    """示闲/示忙 through the one service, with a phone system that says yes to every command."""
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}):
        return presence.set_agent_state(agent, state, reason)


def closed_ticket(
    agent: User, dispatcher: User, handler: User, reply: str = "已联系城管部门现场处理。", **extra
) -> Ticket:
    """Registered, dispatched to the handler's unit, replied, approved and closed: what 办件公开 publishes."""
    ticket = new_ticket(agent, **extra)
    dispatch.dispatch_ticket(ticket, dispatcher, handler.unit)
    part = current_lead(Ticket.objects.get(pk=ticket.pk))
    dispatch.accept_assignment(part, handler)
    dispatch.reply_assignment(current_lead(Ticket.objects.get(pk=ticket.pk)), handler, reply)
    ticket = tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True)
    if ticket.status != "closed":
        tickets.close_ticket(ticket, dispatcher, "市民满意。")
    return Ticket.objects.get(pk=ticket.pk)
