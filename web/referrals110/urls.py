"""The 110 platforms' API under /api/110/v1/ (mounted by config/urls.py; docs/referrals-110.md)."""

from django.urls import path

from web.referrals110 import views

urlpatterns = [
    path("referrals", views.referrals, name="referrals110"),
    path("referrals/<str:incident>", views.referral, name="referral110"),
    path("matters", views.matters, name="referrals110-matters"),
]
