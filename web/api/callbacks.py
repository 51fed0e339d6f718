"""REST endpoints for the agent console and the SMS provider. Mounted under /api/v1/ (docs/callbacks.md).

Views parse input, call one service, render the result.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from callback import callbacks, notifications, queries, revisits
from callback.models import CallbackTask, Revisit, RevisitAppeal, SmsMessage
from callback.sms import services as sms
from hotline import audit
from hotline.access import is_center_staff, sees_full_phone
from hotline.errors import NotAllowed
from hotline.lib.phones import InvalidPhone, mask_phone, normalize_phone
from hotline.models import Role, Ticket
from telephony import control, presence
from telephony.models import AgentStatus
from web.api.permissions import IsCenterStaff
from web.api.views import is_id

# --- agent state --------------------------------------------------------------------------


AgentStateOut = inline_serializer(
    "AgentState",
    {
        "status": serializers.CharField(),
        "reason": serializers.CharField(),
        "changed_at": serializers.DateTimeField(required=False),
    },
)


class BridgeNotAnswering(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "bridge_unavailable"


class PhoneSystemRefused(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "bridge_refused"


class AgentStateView(APIView):
    """POST {"status": "ready" | "paused" | "offline", "reason": "break"} for the current agent.

    The same service as the console: the phone system is told first, so the state changes only
    if the bridge said yes (503 when no bridge answers, 502 when the PBX refuses).
    """

    permission_classes = [IsCenterStaff]

    @extend_schema(responses=AgentStateOut)
    def get(self, request):
        state = getattr(request.user, "agent_state", None)
        if state is None:
            return Response({"status": AgentStatus.OFFLINE, "reason": ""})
        return Response({"status": state.status, "reason": state.reason, "changed_at": state.changed_at})

    @extend_schema(
        request=inline_serializer(
            "AgentStateIn", {"status": serializers.CharField(), "reason": serializers.CharField(required=False)}
        ),
        responses=AgentStateOut,
    )
    def post(self, request):
        try:
            state = presence.set_agent_state(
                request.user, str(request.data.get("status", "")), str(request.data.get("reason", ""))
            )
        except control.BridgeUnavailable as exc:
            raise BridgeNotAnswering(control.explain(exc)) from exc
        except control.CommandFailed as exc:
            raise PhoneSystemRefused(control.explain(exc)) from exc
        return Response({"status": state.status, "reason": state.reason, "changed_at": state.changed_at})


# --- callbacks -----------------------------------------------------------------------------


class CallbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallbackTask
        fields = [
            "id",
            "number",
            "missed_at",
            "status",
            "outcome",
            "attempts",
            "next_attempt_at",
            "agent",
            "offered_at",
            "lease_until",
            "last_error",
            "note",
            "manual",
            "call",
            "caller",
            "completed_at",
        ]

    def to_representation(self, task: CallbackTask) -> dict:
        audit.note_read(self.context["request"].user, fields=["phone"], phone=task.number, reason="callbacks")
        return super().to_representation(task)


class CallbackViewSet(viewsets.ReadOnlyModelViewSet):
    """The current agent's callbacks (offered/dialling first), then every due one, oldest missed first."""

    permission_classes = [IsCenterStaff]
    serializer_class = CallbackSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CallbackTask.objects.none()
        if self.action == "list":
            mine, due = callbacks.callbacks_for_agent(self.request.user)
            return (mine | due).order_by("-status", "missed_at", "pk")
        return CallbackTask.objects.all()

    def _task(self, pk) -> CallbackTask:
        return get_object_or_404(CallbackTask, pk=pk)

    @action(detail=False, methods=["post"])
    def next(self, request):
        """Claim the oldest due callback for me (the console's "next callback" button)."""
        task = callbacks.offer_next_callback(request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(task).data)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return Response(self.get_serializer(callbacks.accept_callback(self._task(pk), request.user)).data)

    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return Response(self.get_serializer(callbacks.decline_callback(self._task(pk), request.user)).data)

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = callbacks.complete_callback(
            self._task(pk), request.user, str(request.data.get("outcome", "")), str(request.data.get("note", ""))
        )
        return Response(self.get_serializer(task).data)

    @action(detail=True, methods=["post"])
    def dial(self, request, pk=None):
        """Manual dial of a missed call from the list."""
        return Response(self.get_serializer(callbacks.manual_dial(request.user, task=self._task(pk))).data)

    @extend_schema(
        operation_id="callbacks_dial_number",
        request=inline_serializer("DialNumberIn", {"number": serializers.CharField()}),
        responses={201: CallbackSerializer},
    )
    @action(detail=False, methods=["post"], url_path="dial")
    def dial_number(self, request):
        """Manual dial of a typed-in number."""
        task = callbacks.manual_dial(request.user, number=str(request.data.get("number", "")))
        return Response(self.get_serializer(task).data, status=status.HTTP_201_CREATED)


# --- revisits ------------------------------------------------------------------------------


class RevisitSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default="")
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Revisit
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "assignment",
            "unit",
            "unit_name",
            "status",
            "rating",
            "solved",
            "completed_at",
            "excluded_from_kpi",
            "channel",
            "scheduled_for",
            "attempts",
            "comment",
            "agent",
            "phone",
            "linkedid",
            "last_error",
        ]

    def get_phone(self, revisit: Revisit) -> str:
        phone, user = revisit.ticket.caller.phone, self.context["request"].user
        if not sees_full_phone(user):
            return mask_phone(phone)
        audit.note_read(user, fields=["phone"], ticket=revisit.ticket, phone=phone, reason="revisits")
        return phone


class ResultSerializer(serializers.Serializer):
    reached = serializers.BooleanField(default=True)
    rating = serializers.CharField(required=False, allow_blank=True, default="")
    solved = serializers.BooleanField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RevisitViewSet(viewsets.ReadOnlyModelViewSet):
    """Center staff: my phone revisits, then the due ones. A unit handler: its own unit's revisits."""

    serializer_class = RevisitSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Revisit.objects.none()
        user = self.request.user
        base = Revisit.objects.select_related("ticket__caller", "unit")
        if is_center_staff(user):
            if self.action == "list":
                mine, due = revisits.revisits_for_agent(user)
                return base.filter(pk__in=mine.values("pk")) | base.filter(pk__in=due.values("pk"))
            return base
        if user.role == Role.UNIT_HANDLER and user.unit_id:
            return base.filter(unit_id=user.unit_id).order_by("-completed_at", "-pk")
        return base.none()

    def _center_only(self) -> None:
        if not is_center_staff(self.request.user):
            raise NotAllowed(gettext("only center staff revisit callers"))

    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        self._center_only()
        return Response(self.get_serializer(revisits.claim_revisit(self.get_object(), request.user)).data)

    @extend_schema(request=None, responses=RevisitSerializer)
    @action(detail=True, methods=["post"])
    def dial(self, request, pk=None):
        """Claim (if still due) and dial: the bridge rings my phone first, then the citizen.
        Bridge down: the revisit is due again later and `last_error` says why."""
        self._center_only()
        return Response(self.get_serializer(revisits.dial_revisit(self.get_object(), request.user)).data)

    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        """Record the answer in one step: {"rating": "satisfied", "solved": true, "comment": "..."}
        or {"reached": false}."""
        self._center_only()
        body = ResultSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revisit = revisits.record_result(self.get_object(), request.user, **body.validated_data)
        return Response(self.get_serializer(revisit).data)

    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        appeal = revisits.raise_appeal(self.get_object(), request.user, str(request.data.get("reason", "")))
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealSerializer(serializers.ModelSerializer):
    class Meta:
        model = RevisitAppeal
        fields = ["id", "revisit", "unit", "raised_by", "raised_at", "reason", "status", "decided_at", "decision_note"]


class AppealViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AppealSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RevisitAppeal.objects.none()
        user = self.request.user
        if is_center_staff(user):
            return RevisitAppeal.objects.all()
        return RevisitAppeal.objects.filter(unit_id=user.unit_id) if user.unit_id else RevisitAppeal.objects.none()

    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        grant = request.data.get("grant")
        if not isinstance(grant, bool):
            raise serializers.ValidationError({"grant": "true or false"})
        appeal = revisits.decide_appeal(self.get_object(), request.user, grant=grant, note=request.data.get("note", ""))
        return Response(self.get_serializer(appeal).data)


# --- the SMS messages of a ticket ----------------------------------------------------------------


class SmsMessageSerializer(serializers.ModelSerializer):
    """One SMS sent to or received from the ticket's caller, with its delivery status."""

    phone = serializers.SerializerMethodField()
    purpose_label = serializers.CharField(source="get_purpose_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = SmsMessage
        fields = [
            "id",
            "direction",
            "phone",
            "purpose",
            "purpose_label",
            "status",
            "status_label",
            "body",
            "attempts",
            "error_code",
            "error",
            "created_at",
            "sent_at",
        ]

    def get_phone(self, message: SmsMessage) -> str:
        phone = message.to if message.direction == "out" else message.sender
        return phone if sees_full_phone(self.context["request"].user) else mask_phone(phone)


class TicketMessagesView(APIView):
    """GET: every SMS about a ticket (by id or number), oldest first: the registered, reply and
    revisit-coming notices, the survey, answers to the caller's texts and the texts themselves."""

    permission_classes = [IsCenterStaff]

    @extend_schema(responses=SmsMessageSerializer(many=True))
    def get(self, request, key: str):
        lookup = Q(number=key) | (Q(pk=int(key)) if is_id(key) else Q())
        ticket = get_object_or_404(Ticket, lookup)
        messages = notifications.messages_of(ticket)
        return Response(SmsMessageSerializer(messages, many=True, context={"request": request}).data)


# --- the SMS provider's webhooks and the survey link -------------------------------------------


def _webhook_allowed(request) -> bool:
    """Twilio's signature when Twilio is the backend; else the shared token; in development, anyone."""
    token = settings.TWILIO_AUTH_TOKEN
    if token and settings.SMS_BACKEND.endswith("TwilioBackend"):
        from twilio.request_validator import RequestValidator

        url = request.build_absolute_uri()
        signature = request.headers.get("X-Twilio-Signature", "")
        return RequestValidator(token).validate(url, request.POST.dict(), signature)
    shared = settings.SMS_INBOUND_TOKEN
    if shared:
        return request.GET.get("token", "") == shared
    return bool(settings.DEBUG)


def _twiml() -> HttpResponse:
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml")


class SmsInboundView(APIView):
    """A citizen's SMS (Twilio form fields From, Body, MessageSid). Our answer goes out as a stored message."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=inline_serializer("SmsInbound", {"From": serializers.CharField(), "Body": serializers.CharField()}),
        responses={(200, "text/xml"): str},
    )
    def post(self, request):
        if not _webhook_allowed(request):
            return Response({"error": "forbidden", "message": "bad signature"}, status=status.HTTP_403_FORBIDDEN)
        try:
            sender = normalize_phone(str(request.data.get("From", "")))
        except InvalidPhone:
            return _twiml()  # nobody we could answer or match; nothing to do
        reply = queries.reply_to_sms(sender, str(request.data.get("Body", "")))
        if reply is not None:
            sms.queue_sms(sender, reply.text, reply.purpose, ticket=reply.ticket)
        return _twiml()


class SmsStatusView(APIView):
    """The provider's delivery report (MessageSid, MessageStatus, ErrorCode)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=inline_serializer(
            "SmsStatus",
            {
                "MessageSid": serializers.CharField(),
                "MessageStatus": serializers.CharField(),
                "ErrorCode": serializers.CharField(required=False),
            },
        ),
        responses={204: None},
    )
    def post(self, request):
        if not _webhook_allowed(request):
            return Response({"error": "forbidden", "message": "bad signature"}, status=status.HTTP_403_FORBIDDEN)
        sms.record_delivery_status(
            str(request.data.get("MessageSid", "")),
            str(request.data.get("MessageStatus", "")),
            str(request.data.get("ErrorCode", "") or ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SurveyView(APIView):
    """The SMS survey link: POST {"digit": "1"|"2"|"3", "comment": "..."}; the token is the key."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=inline_serializer(
            "SurveyAnswer", {"digit": serializers.CharField(), "comment": serializers.CharField(required=False)}
        ),
        responses=inline_serializer(
            "SurveyResult", {"status": serializers.CharField(), "rating": serializers.CharField()}
        ),
    )
    def post(self, request, token: str):
        revisit = revisits.answer_by_token(
            token, str(request.data.get("digit", "")), str(request.data.get("comment", ""))[:500]
        )
        return Response({"status": revisit.status, "rating": revisit.rating})
