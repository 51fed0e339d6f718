"""The ticket page's small map: the seed's area centroids as dots on a plain background, and the
ticket's point. Drawn as inline SVG on the server: no tiles, no script, nothing from the internet."""

from __future__ import annotations

from dataclasses import dataclass

from hotline import geo
from hotline.lib.geo import Frame
from hotline.models import Ticket


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str  # a district's name; empty for a town/street
    mine: bool  # the ticket's own area


@dataclass(frozen=True)
class TicketMap:
    width: int
    height: int
    dots: list[Dot]
    point: tuple[float, float] | None  # None: the point is off the city's picture
    lat: float
    lng: float


def ticket_map(ticket: Ticket) -> TicketMap | None:
    """The picture for a ticket with a point; None without a point or without centroids."""
    if ticket.lat is None or ticket.lng is None:
        return None
    areas = geo.centroids()
    if not areas:
        return None
    frame = Frame.around([(lat, lng) for _a, lat, lng in areas])
    dots = [
        Dot(*frame.xy(lat, lng), label="" if area.parent_id else area.name, mine=area.pk == ticket.area_id)
        for area, lat, lng in areas
    ]
    lat, lng = float(ticket.lat), float(ticket.lng)
    point = frame.xy(lat, lng) if frame.contains(lat, lng) else None
    return TicketMap(frame.width, frame.height, dots, point, lat, lng)
