"""The ticket page's small map: the seed's area centroids as dots on a plain background, and the
ticket's point. Drawn as inline SVG on the server: no tiles, no script, nothing from the internet.

A point inside the city is drawn with its surroundings, about 4 km each way, the towns/streets
there named and its own area in blue; a point with no area (outside the city) is drawn against
the whole city's districts, or said to be off the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline import geo
from hotline.lib.geo import Frame
from hotline.models import Ticket

# Half the side of the local picture, in degrees (0.04° ≈ 4.4 km north–south).
AROUND = 0.04


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    district: bool
    mine: bool  # the ticket's own area
    anchor: str  # "start", or "end" near the right edge so the name stays inside


@dataclass(frozen=True)
class TicketMap:
    width: int
    height: int
    dots: list[Dot]
    point: tuple[float, float] | None  # None: the point is off the picture (outside the city)
    lat: float
    lng: float


def ticket_map(ticket: Ticket) -> TicketMap | None:
    """The picture for a ticket with a point; None without a point or without centroids."""
    if ticket.lat is None or ticket.lng is None:
        return None
    areas = geo.centroids()
    if not areas:
        return None
    lat, lng = float(ticket.lat), float(ticket.lng)
    local = ticket.area_id is not None
    if local:
        mine = [(y, x) for a, y, x in areas if a.pk == ticket.area_id]
        frame = Frame.around([(lat, lng), *mine], margin=AROUND, width=360)
    else:
        frame = Frame.around([(y, x) for _a, y, x in areas])
    dots = []
    for area, y, x in areas:
        if not frame.contains(y, x):
            continue
        is_district = area.parent_id is None
        if local and is_district:
            continue  # a district's seat among its own streets would read as one more street
        dx, dy = frame.xy(y, x)
        label = area.name if (local or is_district) else ""
        anchor = "end" if dx > frame.width * 0.72 else "start"
        dots.append(Dot(dx, dy, label, is_district, area.pk == ticket.area_id, anchor))
    point = frame.xy(lat, lng) if frame.contains(lat, lng) else None
    return TicketMap(frame.width, frame.height, dots, point, lat, lng)
