"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): the views, and JSON and XML rendering."""
