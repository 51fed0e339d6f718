"""Points on the map, framework-free: checking WGS-84 coordinates and finding the nearest area.

Coordinates are stored as WGS-84 (GPS, and what Open311 GeoReport v2 sends). The map the
center draws is a plain picture of the seed's area centroids, with no tiles, so nothing needs
GCJ-02 (the offset datum Chinese web maps such as 高德 and 腾讯 draw in): a page that one day
puts the point on such tiles converts when it draws, and the stored value stays GPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

EARTH_RADIUS_KM = 6371.0088
# Six decimals of a degree is about 0.1 m: more than any phone's GPS knows.
PLACES = Decimal("0.000001")


class InvalidCoordinates(ValueError):
    """Not a point on the earth: ``field`` is "lat" or "long", ``reason`` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason  # "number" (not a finite number) or "range"


def parse_coordinate(raw: object, field: str) -> Decimal:
    """A latitude (``field="lat"``, -90…90) or longitude (``"long"``, -180…180), rounded to 6 places."""
    text = str(raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidCoordinates(field, "number") from None
    if not value.is_finite():
        raise InvalidCoordinates(field, "number")
    limit = 90 if field == "lat" else 180
    if not -limit <= value <= limit:
        raise InvalidCoordinates(field, "range")
    return value.quantize(PLACES)


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine): plenty for choosing between centroids a few km apart."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Centroid:
    key: int  # the area's primary key
    lat: float
    lng: float


def nearest(lat: float, lng: float, centroids: list[Centroid], within_km: float) -> Centroid | None:
    """The centroid closest to the point, if one lies within ``within_km``; else None.

    Without boundaries, "nearest centroid" is a guess near a border: the area it gives is where
    the center starts, and the center corrects it. A point farther than ``within_km`` from every
    centroid is outside the city, and gets no area at all.
    """
    best, best_km = None, within_km
    for c in centroids:
        km = distance_km(lat, lng, c.lat, c.lng)
        if km <= best_km:
            best, best_km = c, km
    return best


@dataclass(frozen=True)
class Frame:
    """Projects points into an SVG box: a plain equirectangular picture, scaled by the latitude."""

    south: float
    west: float
    north: float
    east: float
    width: int = 320
    pad: int = 12

    @classmethod
    def around(cls, points: list[tuple[float, float]], margin: float = 0.05, **kwargs) -> Frame:
        """The box around the points, with ``margin`` degrees on each side (0.05° is about 5 km)."""
        lats = [p[0] for p in points]
        lngs = [p[1] for p in points]
        return cls(min(lats) - margin, min(lngs) - margin, max(lats) + margin, max(lngs) + margin, **kwargs)

    @property
    def _scale(self) -> float:
        return (self.width - 2 * self.pad) / max(1e-9, (self.east - self.west) * self._squash)

    @property
    def _squash(self) -> float:
        return math.cos(math.radians((self.north + self.south) / 2))

    @property
    def height(self) -> int:
        return round((self.north - self.south) * self._scale) + 2 * self.pad

    def xy(self, lat: float, lng: float) -> tuple[float, float]:
        x = self.pad + (lng - self.west) * self._squash * self._scale
        y = self.pad + (self.north - lat) * self._scale
        return round(x, 1), round(y, 1)

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east
