"""``{% script_line "closing" ticket=… told=… %}``: a script (话术) with the moment's values filled in."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from hotline import scripts
from hotline.models import ScriptKind

register = template.Library()


def _day(value) -> str:
    return date_format(timezone.localtime(value) if hasattr(value, "hour") else value, "n月j日") if value else ""


@register.inclusion_tag("web/agent/_script_line.html", takes_context=True)
def script_line(context, kind: str, ticket=None, told=None, revisit=None, task=None) -> dict:
    user = getattr(context.get("request"), "user", None)
    agent_no = getattr(user, "agent_extension", "") or getattr(user, "username", "")
    values: dict[str, object] = {"agent_no": agent_no}
    if kind == ScriptKind.CLOSING and ticket is not None:
        reply_by = (told or {}).get("reply_by")
        values |= {"number": ticket.number, "query_code": ticket.query_code, "reply_by": _day(reply_by)}
    elif kind == ScriptKind.REVISIT and revisit is not None:
        values |= {
            "title": revisit.ticket.title,
            "date": _day(revisit.ticket.created_at),
            "unit": revisit.unit.name if revisit.unit_id else "",
            "reply": revisit.assignment.reply_text if revisit.assignment_id else "",
        }
    elif kind == ScriptKind.CALLBACK and task is not None:
        missed = timezone.localtime(task.missed_at)
        values |= {"missed_at": f"{_day(missed)}{missed:%H:%M}"}
    # One read per kind and template render, however many revisits the panel lists.
    key = ("script", kind)
    if key not in context.render_context:
        context.render_context[key] = scripts.in_use(kind)
    return {"kind": kind, "line": scripts.line(kind, context.render_context[key], **values)}
