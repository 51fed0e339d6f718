"""``{% hot_spot_panel %}``: the hot spots (热点预警) with their tickets, for the center's dashboard.

A tag of its own, so the dashboard's view and its other sections stay untouched; it reads the
rows the scan wrote (metrics.hotspots), never recomputes them.
"""

from __future__ import annotations

from django import template

from hotline.access import is_center_reviewer
from metrics import hotspots
from web.views.hotspots import HotSpotCaseForm

register = template.Library()


@register.inclusion_tag("web/dashboard/_hotspots.html", takes_context=True)
def hot_spot_panel(context) -> dict:
    request = context["request"]
    shown = list(hotspots.shown())
    return {
        "hot_spots": shown,
        "hot_spot_map": hotspots.map_data(shown),
        "may_supervise": is_center_reviewer(request.user),
        "case_form": HotSpotCaseForm(),
        "back": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
