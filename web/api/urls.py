from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from callback import api as callback_api
from telephony.api import CallViewSet
from web.api import views
from web.api.attachments import AttachmentFileView

router = DefaultRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("units", views.UnitViewSet)
router.register("areas", views.AreaViewSet)
router.register("categories", views.CategoryViewSet)
router.register("topics", views.TopicViewSet)
router.register("calls", CallViewSet, basename="call")
callback_api.register(router)  # callbacks, revisits, revisit appeals

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    *callback_api.urlpatterns(),  # agent-state/, sms/inbound/, sms/status/, survey/<token>/
    path("metrics/", include("metrics.urls")),
    path("knowledge/", views.KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("attachments/<int:pk>/", AttachmentFileView.as_view(), name="attachment-file"),
    path("", include(router.urls)),
]
