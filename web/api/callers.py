"""恶意来电 / 缠访 over REST: the center's review list and a caller's record, its three acts (flag,
lift, decline), and the agents' reports.

Reading the list and a record and taking the acts is for supervisors and administrators
(``hotline.access.may_flag_callers``); any member of the center's staff reports a caller. The
services check the actor again, so an agent is refused whichever door they use.
"""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from hotline import audit
from hotline.access import may_flag_callers
from hotline.errors import InvalidInput
from hotline.models import Caller, CallerFlag, CallerReport, Ticket
from hotline.retention import number_forms
from hotline.services import callers as service
from metrics import callers as analysis
from telephony.models import Call
from web.api.permissions import IsCenterStaff

RECORD = "reviewing an abusive or persistent caller"


class IsCallerReviewer(permissions.BasePermission):
    """Supervisors and administrators: the center decides on flags, never an agent alone."""

    def has_permission(self, request, view) -> bool:
        return may_flag_callers(request.user)


class CallerFlagSerializer(serializers.ModelSerializer):
    set_by = serializers.CharField(source="set_by.username", read_only=True)
    lifted_by = serializers.CharField(source="lifted_by.username", default=None, read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = CallerFlag
        fields = ["id", "kind", "reason", "set_by", "set_at", "expires_at", "lifted_by", "lifted_at", "lift_reason",
                  "in_force"]  # fmt: skip

    def get_in_force(self, flag: CallerFlag) -> bool:
        return flag.in_force()


class CallerReportSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number", default=None, read_only=True)
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)
    note = serializers.CharField(source="reason", read_only=True)

    class Meta:
        model = CallerReport
        fields = ["id", "ticket", "call_linkedid", "note", "reported_by", "reported_at", "status", "decided_by",
                  "decided_at", "decision_note", "flag"]  # fmt: skip


class CallerRowSerializer(serializers.ModelSerializer):
    calls_recent = serializers.IntegerField()
    tickets_recent = serializers.IntegerField()
    repeats_recent = serializers.IntegerField()
    reports_pending = serializers.IntegerField()
    reports_total = serializers.IntegerField()
    flag = serializers.SerializerMethodField()

    class Meta:
        model = Caller
        fields = ["id", "phone", "name", "calls_recent", "tickets_recent", "repeats_recent", "reports_pending",
                  "reports_total", "flag"]  # fmt: skip

    def get_flag(self, caller: Caller) -> dict | None:
        flag = caller.flag_in_force()
        return CallerFlagSerializer(flag).data if flag else None


class CallerFlagInput(serializers.Serializer):
    # Checked by the service, so the page and the API refuse with the same words.
    kind = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000, trim_whitespace=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CallerReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CallerReportInput(serializers.Serializer):
    ticket = serializers.CharField(required=False, allow_blank=True, default="", help_text="The ticket's number.")
    call = serializers.CharField(required=False, allow_blank=True, default="", help_text="The call's linkedid.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


def record(caller: Caller) -> dict:
    now = timezone.now()
    history = analysis.caller_history(caller, now)
    return {
        "id": caller.pk,
        "phone": caller.phone,
        "name": caller.name,
        "flag": CallerFlagSerializer(caller.flag_in_force(now)).data if caller.flag_in_force(now) else None,
        "history": {
            "spans": [vars(s) for s in history["spans"]],
            "total": {k: v for k, v in vars(history["total"]).items() if k != "days"},
            "pending_reports": history["pending_reports"],
        },
        "flags": CallerFlagSerializer(caller.flags.select_related("set_by", "lifted_by"), many=True).data,
        "reports": CallerReportSerializer(
            caller.reports.select_related("ticket", "reported_by", "decided_by"), many=True
        ).data,
    }


class CallerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Callers under review. ``?view=review|frequent|flagged|all`` (default ``review``)."""

    serializer_class = CallerRowSerializer
    permission_classes = [IsCallerReviewer]

    def get_permissions(self):
        if self.action == "reports":
            return [IsCenterStaff()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Caller.objects.none()
        view = self.request.query_params.get("view", "review")
        return analysis.review_list(view if view in analysis.VIEWS else "review")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data.get("results", response.data) if isinstance(response.data, dict) else response.data
        for row in rows:
            audit.note_read(request.user, fields=["phone", "name" if row["name"] else ""], phone=row["phone"],
                            reason=RECORD)  # fmt: skip
        return response

    def _caller(self) -> Caller:
        return get_object_or_404(Caller.objects.select_related("flag"), pk=self.kwargs["pk"])

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        """The caller's record: history analysis, the flag in force, every flag and every report."""
        caller = self._caller()
        audit.note_read(
            request.user, fields=["phone", "name" if caller.name else ""], phone=caller.phone, reason=RECORD
        )
        return Response(record(caller))

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=CallerFlagInput, responses={201: CallerFlagSerializer})
    @action(detail=True, methods=["post"])
    def flag(self, request, pk=None):
        """Flag the caller (kind, reason, expiry); replaces a flag in force and decides the pending reports."""
        caller = self._caller()
        data = self._input(CallerFlagInput)
        flag = service.set_flag(caller, request.user, data["kind"], data["reason"], data["expires_at"])
        return Response(CallerFlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CallerReasonInput, responses=CallerFlagSerializer)
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        """End the flag in force before it expires."""
        caller = self._caller()
        return Response(
            CallerFlagSerializer(service.lift_flag(caller, request.user, self._input(CallerReasonInput)["reason"])).data
        )

    @extend_schema(request=CallerReasonInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The reports waiting for review are declined: no flag."""
        caller = self._caller()
        return Response(
            {"declined": len(service.decline_reports(caller, request.user, self._input(CallerReasonInput)["reason"]))}
        )

    @extend_schema(
        request=CallerReportInput,
        responses={201: CallerReportSerializer},
        parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def reports(self, request, pk=None):
        """An agent reports abusive language on a ticket (by number) or a call (by linkedid) of this caller."""
        caller = self._caller()
        data = self._input(CallerReportInput)
        ticket = None
        if data["ticket"]:
            ticket = Ticket.objects.filter(number=data["ticket"]).first()
            if ticket is None:
                raise InvalidInput(
                    _("no ticket has the number %(number)s") % {"number": data["ticket"]}, field="ticket"
                )
        elif data["call"]:
            calls = Call.objects.filter(linkedid=data["call"])
            if not calls.filter(Q(caller=caller) | Q(caller_number__in=number_forms(caller.phone))).exists():
                raise InvalidInput(_("this call is not the caller's"), field="call")
        report = service.report_caller(caller, request.user, data["note"], ticket=ticket, call_linkedid=data["call"])
        return Response(CallerReportSerializer(report).data, status=status.HTTP_201_CREATED)
