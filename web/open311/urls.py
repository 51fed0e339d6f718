"""GeoReport v2 under /open311/v2/ (mounted by config/urls.py); every path ends in .json or .xml."""

from django.urls import path, register_converter

from web.open311 import views


class Format:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Format, "fmt")

urlpatterns = [
    path("discovery.<fmt:fmt>", views.discovery, name="open311-discovery"),
    path("services.<fmt:fmt>", views.services, name="open311-services"),
    path("services/<str:code>.<fmt:fmt>", views.service_definition, name="open311-service"),
    path("requests.<fmt:fmt>", views.requests, name="open311-requests"),
    path("requests/<str:number>.<fmt:fmt>", views.request_detail, name="open311-request"),
    path("tokens/<str:token>.<fmt:fmt>", views.token, name="open311-token"),
]
