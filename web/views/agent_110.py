"""110转来: an agent taking a 110 transfer on the phone registers it as a ticket of channel 110
(the same service as the 110 platforms' API, hotline/services/referrals110.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.errors import DomainError
from hotline.models import Matter110, MatterDirection, Role, System110
from hotline.services import referrals110
from web.views import role_required


def matters_to_110():
    return Matter110.objects.filter(active=True, direction__in=[MatterDirection.TO_110, MatterDirection.BOTH])


def form_context() -> dict:
    """The choices of the 110转来 form (active 110 systems, matters 110 hands to 12345) and of the
    transfer form (matters 12345 hands to 110)."""
    return {
        "systems_110": System110.objects.filter(revoked_at__isnull=True),
        "matters_110": Matter110.objects.filter(
            active=True, direction__in=[MatterDirection.FROM_110, MatterDirection.BOTH]
        ),
        "matters_to_110": matters_to_110(),
    }


@role_required([Role.AGENT])
@require_POST
def from_110(request: HttpRequest) -> HttpResponse:
    field = request.POST.get
    ctx: dict = {}
    system = System110.objects.filter(pk=field("system") or 0, revoked_at__isnull=True).first()
    if system is None:
        ctx["error"] = _("Choose the 110 system that transferred the call.")
        return render(request, "web/agent/_from110_result.html", ctx)
    try:
        received = referrals110.receive(
            system,
            incident_number=field("incident_number", ""),
            matter=field("matter", ""),
            content=field("content", ""),
            phone=field("phone", ""),
            address=field("address", ""),
            caller_name=field("caller_name", ""),
            by=request.user,
        )
    except DomainError as exc:
        ctx["error"] = exc.message
    else:
        ctx |= {"referral": received.referral, "created": received.created}
    return render(request, "web/agent/_from110_result.html", ctx)
