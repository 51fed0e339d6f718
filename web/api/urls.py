"""Every REST endpoint, mounted under /api/v1/ by config/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from web.api import auth, callbacks, callers, calls, metrics, public, supervision, views
from web.api.attachments import AttachmentFileView
from web.api.recordings import RecordingFileView

router = DefaultRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("units", views.UnitViewSet)
router.register("areas", views.AreaViewSet)
router.register("categories", views.CategoryViewSet)
router.register("topics", views.TopicViewSet)
router.register("calls", calls.CallViewSet, basename="call")
router.register("callbacks", callbacks.CallbackViewSet, basename="callback")
router.register("revisits", callbacks.RevisitViewSet, basename="revisit")
router.register("revisit-appeals", callbacks.AppealViewSet, basename="revisit-appeal")
router.register("callers", callers.CallerViewSet, basename="caller")
router.register("supervision-cases", supervision.SupervisionCaseViewSet, basename="supervision-case")

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="api-token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="api-logout"),
    path("auth/logoutall/", auth.LogoutAllView.as_view(), name="api-logoutall"),
    path("agent-state/", callbacks.AgentStateView.as_view(), name="agent-state"),
    path("tickets/<str:key>/messages/", callbacks.TicketMessagesView.as_view(), name="ticket-messages"),
    path("sms/inbound/", callbacks.SmsInboundView.as_view(), name="sms-inbound"),
    path("sms/status/", callbacks.SmsStatusView.as_view(), name="sms-status"),
    path("survey/<str:token>/", callbacks.SurveyView.as_view(), name="revisit-survey"),
    path("metrics/kpis/", metrics.KpiView.as_view(), name="metrics-kpis"),
    path("metrics/kpis/units/", metrics.KpiRankingView.as_view(), name="metrics-kpi-ranking"),
    path("metrics/scores/", metrics.ScoreView.as_view(), name="metrics-scores"),
    path("metrics/callcenter/", metrics.CallCenterView.as_view(), name="metrics-callcenter"),
    path("metrics/staffing/", metrics.StaffingView.as_view(), name="metrics-staffing"),
    path("public/tickets/<str:number>/", public.PublicTicketView.as_view(), name="public-ticket"),
    path("public/tickets/<str:number>/resend-code/", public.ResendCodeView.as_view(), name="public-resend-code"),
    path("knowledge/", views.KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("attachments/<int:pk>/", AttachmentFileView.as_view(), name="attachment-file"),
    path("recordings/<int:pk>/", RecordingFileView.as_view(), name="recording-file"),
    path("", include(router.urls)),
]

# Citizens: "my tickets" after an SMS code (docs/citizens.md). Before the router's catch-all.
urlpatterns[-1:-1] = [
    path("public/otp/", public.OtpRequestView.as_view(), name="public-otp"),
    path("public/otp/verify/", public.OtpVerifyView.as_view(), name="public-otp-verify"),
    path("public/my-tickets/", public.MyTicketsView.as_view(), name="public-my-tickets"),
    path("public/my-tickets/<str:number>/", public.MyTicketView.as_view(), name="public-my-ticket"),
]
