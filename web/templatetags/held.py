"""The count of public reports held for review (待审核), for the center's navigation: one query."""

from __future__ import annotations

from django import template

from hotline.services import abuse

register = template.Library()


@register.simple_tag
def held_count() -> int:
    """``{% held_count as n %}``: reports waiting for the center's spam/abuse review."""
    return abuse.pending_count()
