"""督办件 over REST: list and read cases, open one on a set of tickets, follow it up, close it.

Units read the cases on tickets they can see (never open, note or close: the services refuse);
center reviewers see and act on all. Each act is one service call (docs/supervision.md).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from hotline.access import visible_tickets
from hotline.errors import InvalidInput
from hotline.models import SupervisionCase, SupervisionForm, SupervisionNote, SupervisionOutcome, Ticket, Unit
from hotline.services import supervision
from web.api.permissions import IsCenterOrUnitHandler


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = SupervisionNote
        fields = ["id", "at", "author", "text"]


class CaseSerializer(serializers.ModelSerializer):
    tickets = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)
    unit = serializers.PrimaryKeyRelatedField(read_only=True)
    unit_name = serializers.CharField(source="unit.name", default=None, allow_null=True, read_only=True)
    opened_by = serializers.CharField(source="opened_by.username", read_only=True)
    notes = NoteSerializer(many=True, read_only=True)

    class Meta:
        model = SupervisionCase
        fields = [
            "id", "form", "title", "reason", "tickets", "unit", "unit_name", "leader_name", "due_by", "status",
            "opened_by", "opened_at", "closed_at", "outcome", "result", "notes",
        ]  # fmt: skip


class OpenCaseInput(serializers.Serializer):
    tickets = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=supervision.MAX_TICKETS,
        help_text="Ticket numbers.",
    )  # fmt: skip
    form = serializers.ChoiceField(choices=SupervisionForm.choices)
    reason = serializers.CharField(max_length=2000)
    due_by = serializers.DateTimeField(help_text="The deadline the center demands (ISO 8601, in the future).")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
    leader_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class CaseNoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class CloseCaseInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=SupervisionOutcome.choices)
    result = serializers.CharField(max_length=2000)


class SupervisionCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """督办件. ``?status=open|closed``, ``?form=``."""

    serializer_class = CaseSerializer
    permission_classes = [IsCenterOrUnitHandler]
    filterset_fields = ["status", "form"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SupervisionCase.objects.none()
        seen = visible_tickets(self.request.user, Ticket.objects.filter(supervisions=OuterRef("pk")))
        return (
            SupervisionCase.objects.filter(Exists(seen))
            .select_related("unit", "opened_by")
            .prefetch_related("tickets", "notes__author")
            .order_by("-opened_at", "-pk")
        )

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _done(self, case: SupervisionCase, code: int = status.HTTP_200_OK) -> Response:
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data, status=code)

    @extend_schema(request=OpenCaseInput, responses={201: CaseSerializer})
    def create(self, request):
        """Open a case on one ticket or a set of tickets (a hot problem)."""
        data = self._input(OpenCaseInput)
        numbers = list(dict.fromkeys(data["tickets"]))
        found = {t.number: t for t in Ticket.objects.filter(number__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise InvalidInput(
                _("no ticket has the number %(number)s") % {"number": "、".join(missing)}, field="tickets"
            )
        case = supervision.open_case(
            request.user,
            list(found.values()),
            data["form"],
            data["reason"],
            data["due_by"],
            title=data["title"],
            unit=data.get("unit"),
            leader_name=data["leader_name"],
        )
        return self._done(case, status.HTTP_201_CREATED)

    @extend_schema(request=CaseNoteInput, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """A follow-up note."""
        data = self._input(CaseNoteInput)
        case = self.get_object()
        supervision.add_note(case, request.user, data["text"])
        return self._done(case)

    @extend_schema(request=CloseCaseInput, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close with the outcome and the result."""
        data = self._input(CloseCaseInput)
        return self._done(supervision.close_case(self.get_object(), request.user, data["outcome"], data["result"]))
