"""API representations. Serializers parse and render; services decide."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hotline.access import caller_view
from hotline.deadlines import warning_level
from hotline.models import (
    Area,
    Assignment,
    Attachment,
    Category,
    Channel,
    Dispute,
    Extension,
    SupervisionStatus,
    Ticket,
    TimelineEntry,
    Topic,
    Unit,
    Urgency,
)
from hotline.services.calendar import load_calendar


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "level",
            "parent",
            "leader_name",
            "liaison_name",
            "liaison_phone",
            "is_active",
        ]


class AreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "code", "name", "parent"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "requires_revisit"]


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "code", "name", "parent", "level2_only"]


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    actor_unit = serializers.CharField(source="actor_unit.name", default=None, allow_null=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "action", "actor", "actor_unit", "from_status", "to_status", "note", "data", "assignment"]


class AssignmentSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name")
    unit_level = serializers.IntegerField(source="unit.level")
    warning = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id", "ticket", "unit", "unit_name", "unit_level", "role", "parent", "reopen_of", "status",
            "instructions", "dispatched_at", "accept_by", "reply_by", "original_reply_by", "deadline_provisional",
            "accepted_at", "replied_at", "reply_text", "contacted_caller", "returned_at", "return_reason", "warning",
        ]  # fmt: skip

    def get_warning(self, obj: Assignment) -> str:
        if "calendar" not in self.context:  # one calendar load per response, not per row
            self.context["calendar"] = load_calendar()
        return warning_level(obj, calendar=self.context["calendar"])


class CallerOut(serializers.Serializer):
    phone = serializers.CharField()
    name = serializers.CharField()


@extend_schema_field(CallerOut)
class CallerField(serializers.Field):
    """The caller's phone, masked for roles that do not call citizens."""

    def to_representation(self, ticket: Ticket) -> dict:
        request = self.context.get("request")
        return caller_view(request.user if request is not None else None, ticket)


class TicketSerializer(serializers.ModelSerializer):
    caller = CallerField(source="*", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    topic = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    topic_name = serializers.CharField(source="topic.__str__", default=None, allow_null=True, read_only=True)
    area_name = serializers.CharField(source="area.__str__", default=None, allow_null=True, read_only=True)
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True)
    supervised = serializers.SerializerMethodField(help_text="Under an open supervision case (督办件).")

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "query_code", "status", "version", "channel", "category", "topic", "topic_name",
            "caller", "title", "content", "address", "area", "area_name", "lat", "lng", "urgency", "resolved_on_call",
            "resolution", "merged_into", "reopen_count", "call_linkedid", "created_at", "updated_at", "closed_at",
            "supervised", "consent_public",
        ]  # fmt: skip

    def get_supervised(self, ticket: Ticket) -> bool:
        annotated = getattr(ticket, "supervised", None)  # the viewsets annotate it: one query for a page
        if annotated is not None:
            return bool(annotated)
        return ticket.supervisions.filter(status=SupervisionStatus.OPEN).exists()


class AttachmentSerializer(serializers.ModelSerializer):
    # Where to download it: the view that checks who may see the ticket, never a public media path.
    file = serializers.HyperlinkedIdentityField(
        view_name="attachment-file", help_text="The image; only users who may see the ticket can download it."
    )

    class Meta:
        model = Attachment
        fields = ["id", "file", "content_type", "size", "assignment", "uploaded_at"]


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Extension
        fields = [
            "id",
            "assignment",
            "requested_until",
            "reason",
            "status",
            "requested_at",
            "decided_at",
            "decision_note",
        ]


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = ["id", "assignment", "reason", "status", "raised_at", "decided_at", "decision_note", "reassigned_to"]


class TicketDetailSerializer(TicketSerializer):
    assignments = AssignmentSerializer(many=True, read_only=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "assignments", "timeline", "attachments"]


# --- Inputs of the transitions ------------------------------------------------------


class Versioned(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The ticket version you last saw; a stale one gets 409."
    )


class RegisterInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    caller_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    topic = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Topic.objects.all(),
        required=False,
        allow_null=True,
        help_text="topic code, e.g. 0201",
    )
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=settings.HOTLINE_MAX_CONTENT_CHARS, trim_whitespace=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    area = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Area.objects.all(),
        required=False,
        allow_null=True,
        help_text="area code, e.g. YH01",
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    # Open311 reports come through /open311/v2/ only (docs/open311.md), 110 referrals through /api/110/v1/.
    channel = serializers.ChoiceField(
        choices=[c for c in Channel.choices if c[0] not in (Channel.OPEN311, Channel.POLICE_110)], default=Channel.PHONE
    )
    lat = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="WGS-84 latitude; with lng, or neither"
    )
    lng = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="WGS-84 longitude; the area follows from the point"
    )
    call_linkedid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    consent_public = serializers.BooleanField(
        required=False, default=False, help_text="同意公开: the caller agrees that the closed ticket may be published."
    )


class TextInput(Versioned):
    text = serializers.CharField(max_length=settings.HOTLINE_MAX_CONTENT_CHARS)


class ReplyInput(TextInput):
    contacted_caller = serializers.BooleanField(
        required=False, default=False, help_text="The unit contacted the caller (counts for the response rate)."
    )


class ReasonInput(Versioned):
    reason = serializers.CharField(max_length=2000)


class RemindInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, help_text="What the unit is reminded of (催办).")
    assignment = serializers.PrimaryKeyRelatedField(
        queryset=Assignment.objects.all(),
        required=False,
        allow_null=True,
        help_text="One unit's assignment; omitted: every unit the center dispatched to that is still working.",
    )


class NoteInput(Versioned):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DispatchInput(Versioned):
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    assisting_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), many=True, required=False, default=list
    )
    instructions = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReassignInput(ReasonInput):
    to_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())


class Transfer110Input(ReasonInput):
    mode = serializers.ChoiceField(choices=["transfer", "three_way"], default="transfer")
    call_linkedid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class MergeInput(NoteInput):
    into = serializers.SlugRelatedField(slug_field="number", queryset=Ticket.objects.all())


class ReviewInput(NoteInput):
    decision = serializers.ChoiceField(choices=["approve", "send_back"])
    # Approve although assisting units have not replied: their parts end unreplied (else 409).
    confirm_outstanding = serializers.BooleanField(required=False, default=False)


class SubDispatchInput(Versioned):
    to_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    reply_by = serializers.DateTimeField(required=False, allow_null=True, default=None)
    instructions = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ExtensionInput(ReasonInput):
    until = serializers.DateTimeField()


class DecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DisputeDecisionInput(serializers.Serializer):
    reassign_to = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=2000)


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField()
    assignment = serializers.PrimaryKeyRelatedField(queryset=Assignment.objects.all(), required=False, allow_null=True)


class SuggestionSerializer(serializers.Serializer):
    unit = serializers.IntegerField(source="unit.pk")
    unit_name = serializers.CharField(source="unit.name")
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class KnowledgeHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    title = serializers.CharField(source="article.title")
    body = serializers.CharField(source="article.body")
    topic = serializers.CharField(source="article.topic.code", default=None, allow_null=True)
    source_unit = serializers.CharField(source="article.source_unit.name", default=None, allow_null=True)
    reviewed_at = serializers.DateField(source="article.reviewed_at")
    source = serializers.CharField(source="article.source")
    legal_basis = serializers.CharField(source="article.legal_basis")
    valid_from = serializers.DateField(source="article.valid_from")
    valid_until = serializers.DateField(source="article.valid_until", allow_null=True)
    version = serializers.IntegerField(source="article.version")
    score = serializers.IntegerField()
    matched = serializers.ListField(child=serializers.CharField())
