"""REST: /api/v1/calls/ — call records for the center (agents, dispatchers, supervisors)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from hotline import audit
from telephony.models import Call, Outcome, Purpose
from web.api.permissions import IsCenterStaff


class CallSerializer(serializers.ModelSerializer):
    caller = serializers.CharField(source="caller_number", read_only=True)
    caller_id = serializers.IntegerField(read_only=True, allow_null=True)
    agent = serializers.CharField(source="agent_interface", read_only=True)
    agent_user = serializers.IntegerField(source="agent_id", read_only=True, allow_null=True)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True, allow_null=True)
    # Empty while the call rings or for an inbound call: the schema says so ("" is no enum value).
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    purpose = serializers.ChoiceField(choices=Purpose.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "pbx",
            "linkedid",
            "caller",
            "caller_id",
            "queue",
            "agent",
            "agent_name",
            "agent_user",
            "offered_at",
            "answered_at",
            "ended_at",
            "wait_seconds",
            "talk_seconds",
            "outcome",
            "ivr_choice",
            "purpose",
            "ticket",
        ]
        read_only_fields = fields

    def to_representation(self, call: Call) -> dict:
        request = self.context.get("request")
        audit.note_read(
            getattr(request, "user", None),
            fields=["phone"],
            ticket=call.ticket_id,
            phone=call.caller_number,
            reason="call records",
        )
        return super().to_representation(call)


class CallFilter(django_filters.FilterSet):
    offered_after = django_filters.IsoDateTimeFilter(field_name="offered_at", lookup_expr="gte")
    offered_before = django_filters.IsoDateTimeFilter(field_name="offered_at", lookup_expr="lt")
    date_from = django_filters.DateFilter(field_name="offered_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="offered_at", lookup_expr="date__lte")
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices)
    purpose = django_filters.MultipleChoiceFilter(choices=Purpose.choices)
    agent = django_filters.NumberFilter(field_name="agent_id")
    agent_interface = django_filters.CharFilter(field_name="agent_interface")
    caller = django_filters.CharFilter(method="filter_caller")

    class Meta:
        model = Call
        fields = ["queue", "pbx"]

    def filter_caller(self, queryset, name, value):
        # Accept the raw PBX number or a Caller id.
        if value.isdigit() and len(value) < 10:
            return queryset.filter(caller_id=int(value))
        audit.note_read(self.request.user, fields=["phone"], phone=value, reason="search by phone", action=audit.SEARCH)
        return queryset.filter(caller_number__endswith=value.removeprefix("+86"))


class CallViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CallSerializer
    permission_classes = [IsCenterStaff]  # call records carry full phone numbers
    filterset_class = CallFilter
    queryset = Call.objects.all()  # no joins needed: the serializer reads only FK ids
