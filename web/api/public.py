"""The public API for the city's app and mini-program: anonymous, the same rules as /track/.

``GET /api/v1/public/tickets/{number}/?code=…`` renders ``hotline.public.citizen_view``;
a wrong code and an unknown number are the same 404; too many failures are 429 with
Retry-After (``web.public``). ``POST …/resend-code/`` is "forgot the query code".
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.public import STAGES, citizen_view
from web.public import Malformed, Throttled, look_up, resend_code


class UnitPartSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField(help_text="lead unit or assisting unit, in the request's language")
    replied = serializers.BooleanField()


class StageSerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        choices=list(dict.fromkeys(stage.key for stage in STAGES.values())),
        help_text="Stable code of the citizen-facing status",
    )
    word = serializers.CharField(help_text="The status in plain words (已受理, 已转办, …)")
    explanation = serializers.CharField()
    step = serializers.IntegerField(help_text="1–6 along the usual path; 0 for 110, merged and withdrawn")


class FollowedSerializer(serializers.Serializer):
    number = serializers.CharField()
    stage = StageSerializer()
    units = UnitPartSerializer(many=True)
    reply_by = serializers.DateTimeField(allow_null=True)
    reply = serializers.CharField(allow_blank=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class PublicTicketSerializer(serializers.Serializer):
    """A ticket as its caller may see it: no staff, no notes, the phone masked."""

    number = serializers.CharField()
    stage = StageSerializer()
    category = serializers.CharField()
    title = serializers.CharField(allow_blank=True, help_text="The demand in one line")
    phone = serializers.CharField(help_text="The caller's phone, masked (138****5678)")
    registered_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    reply_by = serializers.DateTimeField(allow_null=True, help_text="The lead unit's deadline while it works")
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    reply = serializers.CharField(allow_blank=True, help_text="Only once the center approved it")
    revisit = serializers.CharField(allow_null=True, help_text="The revisit's result in plain words")
    revisit_at = serializers.DateTimeField(allow_null=True)
    units = UnitPartSerializer(many=True)
    merged_into = FollowedSerializer(allow_null=True, help_text="A merged ticket: the one it is handled in")


ErrorOut = inline_serializer("PublicError", {"error": serializers.CharField(), "message": serializers.CharField()})
ResendOut = inline_serializer("ResendCodeOut", {"status": serializers.CharField(), "message": serializers.CharField()})


def _throttled(exc: Throttled) -> Response:
    body = {"error": "throttled", "message": gettext("Too many wrong tries. Please try again later, or call 12345.")}
    return Response(body, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(exc.retry_after)})


class PublicTicketView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="public_ticket",
        summary="A ticket's progress, by number and query code (anonymous)",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True, description="Query code"),
        ],
        responses={
            200: PublicTicketSerializer,
            400: OpenApiResponse(ErrorOut, description="Not a 13-digit number or not a 6-digit code (not counted)"),
            404: OpenApiResponse(ErrorOut, description="Unknown number or wrong code (the same answer)"),
            429: OpenApiResponse(ErrorOut, description="Too many failures from this address or for this number"),
        },
        tags=["public"],
    )
    def get(self, request, number: str):
        try:
            ticket = look_up(request, number, request.query_params.get("code", ""))
        except Malformed as exc:
            message = gettext("The ticket number has 13 digits and the query code 6.")
            return Response({"error": "invalid", "message": message, "field": exc.field}, status=400)
        except Throttled as exc:
            return _throttled(exc)
        if ticket is None:
            body = {"error": "not_found", "message": gettext("No ticket matches this number and query code.")}
            return Response(body, status=status.HTTP_404_NOT_FOUND)
        data = PublicTicketSerializer(citizen_view(ticket)).data
        return Response(data, headers={"Cache-Control": "private, no-store"})


class ResendCodeView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="public_ticket_resend_code",
        summary="Forgot the query code: send it by SMS to the phone on file (anonymous)",
        request=inline_serializer("ResendCodeIn", {"phone": serializers.CharField()}),
        responses={
            202: OpenApiResponse(ResendOut, description="Always the same, whether or not the phone matched"),
            429: OpenApiResponse(ErrorOut, description="Too many requests from this address or for this number"),
        },
        tags=["public"],
    )
    def post(self, request, number: str):
        try:
            resend_code(request, number, request.data.get("phone", ""))
        except Throttled as exc:
            return _throttled(exc)
        body = {
            "status": "accepted",
            "message": gettext("If the phone number is the one registered with this ticket, the code is sent by SMS."),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
