"""Metrics REST endpoints; mounted under /api/v1/metrics/."""

from django.urls import path

from web.api import metrics as api

urlpatterns = [
    path("kpis/", api.KpiView.as_view(), name="metrics-kpis"),
    path("kpis/units/", api.KpiRankingView.as_view(), name="metrics-kpi-ranking"),
    path("callcenter/", api.CallCenterView.as_view(), name="metrics-callcenter"),
    path("staffing/", api.StaffingView.as_view(), name="metrics-staffing"),
]
