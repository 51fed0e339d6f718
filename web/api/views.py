"""REST API v1: read endpoints plus one endpoint per transition.

Each transition view parses its input, calls exactly one service and returns
the ticket as it is afterwards. Errors come back as JSON (see errors.py).
"""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from hotline import search
from hotline.access import check_can_view, is_center_staff, visible_tickets
from hotline.errors import NotAllowed
from hotline.models import (
    Area,
    Assignment,
    AssignmentStatus,
    Category,
    Dispute,
    Extension,
    KnowledgeArticle,
    Role,
    Ticket,
    TicketStatus,
    TimelineEntry,
    Topic,
    Unit,
)
from hotline.services import attachments, disputes, extensions, knowledge, supervision, tickets
from hotline.services import dispatch as dispatching
from routing.suggest import suggest_for_ticket
from web.api import serializers as s
from web.api.parsers import FormParser, JSONParser
from web.api.permissions import IsCenterOrUnitHandler


class TicketFilter(django_filters.FilterSet):
    """The API's side of the one ticket search (``hotline.search``, docs/search.md)."""

    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    category = django_filters.CharFilter(field_name="category__code")
    unit = django_filters.NumberFilter(method="filter_unit", label="assigned to unit (id)")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    q = django_filters.CharFilter(
        method="filter_q",
        label="words of title, content, address, resolution and replies (Chinese matched as written, "
        "no spaces needed; several words: all of them), or a ticket number or query code; at most 100 characters",
    )
    phone = django_filters.CharFilter(
        method="filter_phone", label="caller phone in any format; center staff only: a unit sees numbers masked"
    )
    name = django_filters.CharFilter(method="filter_name", label="part of the caller's name; center staff only")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="a unit's part open past its reply-by")
    repeat = django_filters.BooleanFilter(field_name="repeat_of", lookup_expr="isnull", exclude=True)
    order = django_filters.ChoiceFilter(
        method="filter_order", choices=[(k, k) for k in search.ORDERS], label="sort (default newest)"
    )
    supervised = django_filters.BooleanFilter(method="filter_supervised", label="under an open supervision case")

    class Meta:
        model = Ticket
        fields = ["status", "category", "topic", "area", "urgency", "channel"]

    def filter_unit(self, qs, name, value):
        if not is_id(value):
            return qs.none()  # no unit has that id
        return qs.filter(assignments__unit_id=value).exclude(assignments__status=AssignmentStatus.WITHDRAWN).distinct()

    def filter_phone(self, qs, name, value):
        return search.match_phone(self.request.user, qs, value)

    def filter_name(self, qs, name, value):
        return search.match_name(self.request.user, qs, value)

    def filter_supervised(self, qs, name, value):
        return qs.filter(supervision.supervised_filter() if value else ~supervision.supervised_filter())

    def filter_q(self, qs, name, value):
        return search.match_words(qs, value)

    def filter_overdue(self, qs, name, value):
        over = search.overdue(timezone.now())
        return qs.filter(over) if value else qs.exclude(over)

    def filter_order(self, qs, name, value):
        return qs.order_by(*search.ORDERS[value])


class TicketSearchThrottle(UserRateThrottle):
    """Searching the ticket list (any filter) is rate-limited per user: setting API_TICKET_SEARCH_RATE."""

    scope = "ticket_search"

    def get_rate(self) -> str:
        return settings.API_TICKET_SEARCH_RATE

    def allow_request(self, request, view) -> bool:
        if getattr(view, "action", None) != "list" or not request.query_params.keys() - {"page", "page_size"}:
            return True  # reading a page of the list is no search
        return super().allow_request(request, view)


def is_id(value) -> bool:
    """A database id: ASCII digits (not "³" or "٣", which str.isdigit accepts) within 64 bits."""
    text = str(value)
    if text.endswith(".0"):  # a NumberFilter hands over a Decimal
        text = text[:-2]
    return text.isascii() and text.isdigit() and 0 < int(text) < 2**63


TICKET_KEY = "The ticket's numeric id or its 13-digit ticket number."


def ticket_detail_queryset(user):
    return (
        visible_tickets(user)
        .annotate(supervised=supervision.supervised_filter())
        .select_related("caller", "category", "topic__parent", "area__parent", "merged_into")
        .prefetch_related(
            Prefetch("assignments", Assignment.objects.select_related("unit")),
            Prefetch("timeline", TimelineEntry.objects.select_related("actor", "actor_unit")),
            "attachments",
        )
    )


def ticket_response(request: Request, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
    """The ticket as it stands after an action, with its assignments and timeline."""
    ticket = ticket_detail_queryset(request.user).get(pk=ticket_id)
    return Response(s.TicketDetailSerializer(ticket, context={"request": request}).data, status=code)


def _version(data: dict) -> int | None:
    return data.get("version")


@extend_schema_view(
    **{
        name: extend_schema(parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description=TICKET_KEY)])
        for name in [
            "retrieve",
            "resolve",
            "dispatch_to",
            "reassign",
            "review",
            "close",
            "reopen",
            "transfer_110",
            "merge",
            "discard",
            "restore",
            "attachments",
            "suggestions",
        ]
    }
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets (工单). ``{id}`` is the numeric id or the ticket number."""

    permission_classes = [IsCenterOrUnitHandler]
    filterset_class = TicketFilter
    throttle_classes = [TicketSearchThrottle]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Ticket.objects.none()
        if self.action == "list":
            return (
                visible_tickets(self.request.user)
                .annotate(supervised=supervision.supervised_filter())
                .select_related("caller", "category", "topic__parent", "area__parent", "merged_into")
            )
        return ticket_detail_queryset(self.request.user)

    def get_serializer_class(self):
        return s.TicketDetailSerializer if self.action != "list" else s.TicketSerializer

    def get_object(self) -> Ticket:
        key = self.kwargs["pk"]
        lookup = Q(number=key) | (Q(pk=int(key)) if is_id(key) else Q())
        ticket = Ticket.objects.filter(lookup).first()
        if ticket is None:
            raise Http404
        check_can_view(self.request.user, ticket)  # 403, not 404: the number is no secret to a unit
        return self.get_queryset().get(pk=ticket.pk)

    def _done(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        return ticket_response(self.request, ticket.pk, code)

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        request=s.RegisterInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Your key for this registration (at most 64 characters): sending it again, even "
                "at the same time, returns the ticket made the first time (200) instead of a new one.",
            )
        ],
        responses={201: s.TicketDetailSerializer, 200: s.TicketDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        """受理登记: register a ticket."""
        if not is_center_staff(request.user):
            raise NotAllowed(_("only the center registers tickets"))
        data = self._input(s.RegisterInput)
        key = request.headers.get("Idempotency-Key", "")
        ticket, created = tickets.register_ticket_once(idempotency_key=key, by=request.user, **data)
        return self._done(ticket, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.TextInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """直接办结: resolve on call."""
        data = self._input(s.TextInput)
        return self._done(tickets.resolve_on_call(self.get_object(), request.user, data["text"], _version(data)))

    @extend_schema(request=s.DispatchInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_to(self, request, pk=None):  # not "dispatch": that name is APIView's own
        """派单: dispatch to a level-2 lead unit (and assisting units)."""
        data = self._input(s.DispatchInput)
        ticket = self.get_object()
        dispatching.dispatch_ticket(
            ticket, request.user, data["lead_unit"], data["assisting_units"], data["instructions"], _version(data)
        )
        return self._done(ticket)

    @extend_schema(request=s.ReassignInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """改派: give the ticket to another level-2 unit."""
        data = self._input(s.ReassignInput)
        ticket = self.get_object()
        dispatching.reassign_ticket(ticket, request.user, data["to_unit"], data["reason"], _version(data))
        return self._done(ticket)

    @extend_schema(request=s.ReviewInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """审核: approve the reply, or send it back to be redone."""
        data = self._input(s.ReviewInput)
        ticket = tickets.review_reply(
            self.get_object(),
            request.user,
            approve=data["decision"] == "approve",
            note=data["note"],
            expected_version=_version(data),
            confirm_outstanding=data["confirm_outstanding"],
        )
        return self._done(ticket)

    @extend_schema(request=s.NoteInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """归档: close after the revisit."""
        data = self._input(s.NoteInput)
        return self._done(tickets.close_ticket(self.get_object(), request.user, data["note"], _version(data)))

    @extend_schema(request=s.ReasonInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """发回重办: reopen at the same lead unit with a new deadline."""
        data = self._input(s.ReasonInput)
        ticket = self.get_object()
        tickets.reopen_ticket(ticket, request.user, data["reason"], _version(data))
        return self._done(ticket)

    @extend_schema(request=s.Transfer110Input, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="transfer-110")
    def transfer_110(self, request, pk=None):
        """移交110: refer the case to the police."""
        data = self._input(s.Transfer110Input)
        ticket = self.get_object()
        tickets.transfer_to_110(
            ticket,
            request.user,
            data["reason"],
            mode=data["mode"],
            call_linkedid=data["call_linkedid"],
            expected_version=_version(data),
        )
        return self._done(ticket)

    @extend_schema(request=s.MergeInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """并单: merge this ticket into an earlier one."""
        data = self._input(s.MergeInput)
        into = data["into"]
        check_can_view(request.user, into)
        return self._done(tickets.merge_ticket(self.get_object(), into, request.user, data["note"], _version(data)))

    @extend_schema(request=s.RemindInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def remind(self, request, pk=None):
        """催办: remind a unit (or every unit the center dispatched to) with a note; pushed to its workbench."""
        data = self._input(s.RemindInput)
        ticket = self.get_object()
        supervision.remind(ticket, request.user, data["note"], assignment=data.get("assignment"))
        return self._done(ticket)

    @extend_schema(request=s.ReasonInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Move to the recycle bin (回收站)."""
        data = self._input(s.ReasonInput)
        return self._done(tickets.discard_ticket(self.get_object(), request.user, data["reason"], _version(data)))

    @extend_schema(request=s.NoteInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Restore from the recycle bin."""
        data = self._input(s.NoteInput)
        return self._done(tickets.restore_ticket(self.get_object(), request.user, data["note"], _version(data)))

    @extend_schema(request={"multipart/form-data": s.AttachmentInput}, responses={201: s.AttachmentSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        """Attach an image (JPEG, PNG, GIF, WebP; size-limited)."""
        data = self._input(s.AttachmentInput)
        made = attachments.add_attachment(self.get_object(), request.user, data["file"], data.get("assignment"))
        return Response(s.AttachmentSerializer(made, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=None, responses=s.SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a short ranked list, never paged
    def suggestions(self, request, pk=None):
        """Ranked dispatch suggestions from the dispatch catalogue, with reasons."""
        return Response(s.SuggestionSerializer(suggest_for_ticket(self.get_object()), many=True).data)


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assignments: one unit's part of a ticket. Units act on their own here."""

    permission_classes = [IsCenterOrUnitHandler]  # a handler of no unit has no subtree (it was a 500)
    serializer_class = s.AssignmentSerializer
    filterset_fields = ["status", "unit", "role", "ticket"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        visible = visible_tickets(self.request.user)
        qs = Assignment.objects.filter(ticket__in=visible).select_related("unit").order_by("reply_by", "pk")
        user = self.request.user
        if user.role == Role.UNIT_HANDLER and not user.is_superuser:
            qs = qs.filter(unit_id__in=user.unit.subtree_ids())
        return qs

    def get_object(self) -> Assignment:
        key = self.kwargs["pk"]
        assignment = Assignment.objects.select_related("ticket", "unit").filter(pk=key).first() if is_id(key) else None
        if assignment is None:
            raise Http404
        check_can_view(self.request.user, assignment.ticket)
        user = self.request.user
        if user.role == Role.UNIT_HANDLER and assignment.unit_id not in user.unit.subtree_ids():
            raise NotAllowed(_("this assignment belongs to another unit"))
        return assignment

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _done(self, assignment: Assignment, code: int = 200) -> Response:
        return ticket_response(self.request, assignment.ticket_id, code)

    @extend_schema(request=s.Versioned, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """签收."""
        data = self._input(s.Versioned)
        return self._done(dispatching.accept_assignment(self.get_object(), request.user, _version(data)))

    @extend_schema(request=s.ReasonInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """退回 with a reason."""
        data = self._input(s.ReasonInput)
        return self._done(
            dispatching.return_assignment(self.get_object(), request.user, data["reason"], _version(data))
        )

    @extend_schema(request=s.SubDispatchInput, responses={201: s.TicketDetailSerializer})
    @action(detail=True, methods=["post"], url_path="sub-dispatch")
    def sub_dispatch(self, request, pk=None):
        """二次派单 to one of your own level-3 units, with an inner deadline."""
        data = self._input(s.SubDispatchInput)
        child = dispatching.sub_dispatch(
            self.get_object(),
            request.user,
            data["to_unit"],
            reply_by=data["reply_by"],
            instructions=data["instructions"],
            expected_version=_version(data),
        )
        return self._done(child, 201)

    @extend_schema(request=s.ReplyInput, responses=s.TicketDetailSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """答复: report what was done (and whether the caller was contacted)."""
        data = self._input(s.ReplyInput)
        return self._done(
            dispatching.reply_assignment(
                self.get_object(), request.user, data["text"], _version(data), contacted_caller=data["contacted_caller"]
            )
        )

    @extend_schema(request=s.ExtensionInput, responses={201: s.ExtensionSerializer})
    @action(detail=True, methods=["post"])
    def extension(self, request, pk=None):
        """延期: ask for a later deadline."""
        data = self._input(s.ExtensionInput)
        made = extensions.request_extension(
            self.get_object(), request.user, data["until"], data["reason"], _version(data)
        )
        return Response(s.ExtensionSerializer(made).data, status=201)

    @extend_schema(request=s.ReasonInput, responses={201: s.DisputeSerializer})
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """派单异议: this is not our responsibility."""
        data = self._input(s.ReasonInput)
        made = disputes.raise_dispute(self.get_object(), request.user, data["reason"], _version(data))
        return Response(s.DisputeSerializer(made).data, status=201)


class ExtensionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsCenterOrUnitHandler]
    serializer_class = s.ExtensionSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Extension.objects.none()
        return Extension.objects.filter(assignment__ticket__in=visible_tickets(self.request.user))

    @extend_schema(request=s.DecisionInput, responses=s.ExtensionSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        serializer = s.DecisionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = extensions.decide_extension(self.get_object(), request.user, **serializer.validated_data)
        return Response(s.ExtensionSerializer(made).data)


class DisputeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsCenterOrUnitHandler]
    serializer_class = s.DisputeSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dispute.objects.none()
        return Dispute.objects.filter(assignment__ticket__in=visible_tickets(self.request.user))

    @extend_schema(request=s.DisputeDecisionInput, responses=s.DisputeSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        serializer = s.DisputeDecisionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = disputes.decide_dispute(self.get_object(), request.user, **serializer.validated_data)
        return Response(s.DisputeSerializer(made).data)


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Unit.objects.all()
    serializer_class = s.UnitSerializer
    filterset_fields = ["level", "kind", "parent", "is_active"]
    pagination_class = None


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Area.objects.all()
    serializer_class = s.AreaSerializer
    pagination_class = None


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.all()
    serializer_class = s.CategorySerializer
    pagination_class = None


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Topic.objects.all()
    serializer_class = s.TopicSerializer
    pagination_class = None


class KnowledgeSearchView(generics.GenericAPIView):
    """知识库 search: ``?q=`` in the caller's words, optional ``topic`` (code); best answers first."""

    serializer_class = s.KnowledgeHitSerializer
    queryset = KnowledgeArticle.objects.none()  # ranked in Python by the knowledge service, not a queryset
    pagination_class = None  # the best answers, as a plain list

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("topic", str, OpenApiParameter.QUERY, description="topic code, e.g. 0501"),
        ],
        responses=s.KnowledgeHitSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not is_center_staff(request.user):
            raise NotAllowed(_("the knowledge base is for the center's staff"))
        topic = Topic.objects.filter(code=request.query_params.get("topic", "")).first()
        hits = knowledge.search(request.query_params.get("q", ""), topic=topic)
        return Response(s.KnowledgeHitSerializer(hits, many=True).data)
