"""Which area a point is in: the nearest town/street centroid of the seed, else the nearest district's.

The pure arithmetic is ``hotline/lib/geo.py``; this module reads the centroids from ``Area``.
"""

from __future__ import annotations

from decimal import Decimal

from hotline.lib.geo import Centroid, nearest
from hotline.models import Area

# A town/street's centroid within this distance names the town; farther, a district's centroid
# within DISTRICT_KM names only the district; farther still the point is outside the city and
# the area is left for the center to fill. Towns of 湘乡 and 湘潭县 are 10–15 km across.
TOWN_KM = 10.0
DISTRICT_KM = 30.0


def area_for(lat: Decimal | float, lng: Decimal | float) -> Area | None:
    """The area a WGS-84 point most likely lies in, or None when it is outside the city."""
    lat, lng = float(lat), float(lng)
    rows = list(Area.objects.filter(lat__isnull=False, lng__isnull=False).values_list("pk", "parent_id", "lat", "lng"))
    towns = [Centroid(pk, float(a), float(b)) for pk, parent, a, b in rows if parent is not None]
    districts = [Centroid(pk, float(a), float(b)) for pk, parent, a, b in rows if parent is None]
    found = nearest(lat, lng, towns, TOWN_KM) or nearest(lat, lng, districts, DISTRICT_KM)
    return Area.objects.select_related("parent").get(pk=found.key) if found else None


def centroids() -> list[tuple[Area, float, float]]:
    """Every area with a centroid: the background of the ticket page's map."""
    areas = Area.objects.filter(lat__isnull=False, lng__isnull=False).select_related("parent").order_by("code")
    return [(a, float(a.lat), float(a.lng)) for a in areas]
