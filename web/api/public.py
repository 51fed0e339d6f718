"""The public API for the city's app and mini-program: anonymous, the same rules as /track/.

``GET /api/v1/public/tickets/{number}/?code=…`` renders ``hotline.public.citizen_view``;
a wrong code and an unknown number are the same 404; too many failures are 429 with
Retry-After (``web.public``). ``POST …/resend-code/`` is "forgot the query code".
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from callback import otp
from hotline.lib.phones import mask_phone
from hotline.public import STAGES, citizen_view
from web.public import BadPhone, Malformed, Throttled, look_up, my_ticket, my_tickets, resend_code, send_otp, verify_otp


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


# --- "My tickets": a phone proven by an SMS code, then a short-lived bearer token -----------------


class CitizenTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` from ``POST /api/v1/public/otp/verify/`` (30 min idle)."""

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        phone = otp.session_phone(token.strip())
        if phone is None:
            raise exceptions.AuthenticationFailed(gettext("The token has expired or is not valid. Ask for a new code."))
        return (AnonymousUser(), phone)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="citizen"'


class CitizenTokenScheme(OpenApiAuthenticationExtension):
    target_class = "web.api.public.CitizenTokenAuthentication"
    name = "citizenToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "From POST /api/v1/public/otp/verify/"}


class HasCitizenToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, str) and bool(request.auth)


OtpError = inline_serializer(
    "PublicOtpError",
    {
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "tries_left": serializers.IntegerField(required=False),
    },
)


def _refused_otp(exc: otp.OtpRefused) -> Response:
    if exc.reason == "wait":
        body = {"error": "wait", "message": gettext("A code was sent less than a minute ago.")}
    else:
        body = {"error": "throttled", "message": gettext("Too many codes were asked for.")}
    return Response(body, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(exc.retry_after)})


def _bad_phone() -> Response:
    message = gettext("Please enter a mobile phone number, for example 138 0013 8000.")
    return Response({"error": "invalid_phone", "message": message}, status=400)


class OtpRequestView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="public_otp_request",
        summary="Send a one-time code by SMS to a mobile number (anonymous)",
        request=inline_serializer("OtpRequestIn", {"phone": serializers.CharField()}),
        responses={
            202: inline_serializer(
                "OtpSentOut",
                {
                    "status": serializers.CharField(),
                    "expires_in": serializers.IntegerField(help_text="Seconds the code is valid"),
                    "resend_after": serializers.IntegerField(help_text="Seconds before another code may be asked"),
                },
            ),
            400: OpenApiResponse(OtpError, description="Not a Chinese mobile number"),
            429: OpenApiResponse(
                OtpError, description="Asked again within a minute, or too many for the number or address"
            ),
        },
        tags=["public"],
    )
    def post(self, request):
        try:
            send_otp(request, request.data.get("phone", ""))
        except BadPhone:
            return _bad_phone()
        except otp.OtpRefused as exc:
            return _refused_otp(exc)
        body = {
            "status": "sent",
            "expires_in": settings.CITIZEN_OTP_SECONDS,
            "resend_after": settings.CITIZEN_OTP_RESEND_SECONDS,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Cache-Control": "no-store"})


class OtpVerifyView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="public_otp_verify",
        summary="Trade the SMS code for a short-lived token for my-tickets (anonymous)",
        request=inline_serializer("OtpVerifyIn", {"phone": serializers.CharField(), "code": serializers.CharField()}),
        responses={
            200: inline_serializer(
                "OtpTokenOut",
                {
                    "token": serializers.CharField(help_text="Send as 'Authorization: Bearer <token>'"),
                    "idle_timeout": serializers.IntegerField(help_text="Seconds without use before it ends"),
                    "expires_in": serializers.IntegerField(help_text="Seconds before it ends in any case"),
                },
            ),
            400: OpenApiResponse(
                OtpError, description="invalid_phone, or the code is wrong / expired / used / locked (too many tries)"
            ),
            429: OpenApiResponse(OtpError, description="Too many wrong codes from this address"),
        },
        tags=["public"],
    )
    def post(self, request):
        try:
            token = verify_otp(request, request.data.get("phone", ""), request.data.get("code", ""))
        except BadPhone:
            return _bad_phone()
        except otp.OtpFailed as exc:
            body = {"error": exc.reason, "message": str(OTP_MESSAGES[exc.reason]), "tries_left": exc.tries_left}
            return Response(body, status=400)
        except Throttled as exc:
            return _throttled(exc)
        body = {
            "token": token,
            "idle_timeout": settings.CITIZEN_SESSION_IDLE_SECONDS,
            "expires_in": settings.CITIZEN_SESSION_MAX_SECONDS,
        }
        return Response(body, headers={"Cache-Control": "no-store"})


OTP_MESSAGES = {
    "wrong": gettext_lazy("The code is not right."),
    "expired": gettext_lazy("This code has expired. Please ask for a new one."),
    "used": gettext_lazy("This code has already been used. Please ask for a new one."),
    "locked": gettext_lazy("Too many wrong tries for this code. Please ask for a new one."),
}


class ListedSerializer(serializers.Serializer):
    number = serializers.CharField()
    stage = StageSerializer()
    category = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    registered_at = serializers.DateTimeField()
    merged_into = serializers.CharField(allow_null=True, help_text="A merged ticket: the number it is handled in")


Unauthorized = OpenApiResponse(ErrorOut, description="No token, or it ended (30 min idle)")


class MyTicketsView(APIView):
    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [HasCitizenToken]

    @extend_schema(
        operation_id="public_my_tickets",
        summary="Every ticket registered with the proven phone, newest first",
        responses={
            200: inline_serializer(
                "MyTicketsOut", {"phone": serializers.CharField(), "tickets": ListedSerializer(many=True)}
            ),
            401: Unauthorized,
        },
        tags=["public"],
    )
    def get(self, request):
        listed = ListedSerializer(my_tickets(request.auth), many=True).data
        body = {"phone": mask_phone(request.auth), "tickets": listed}
        return Response(body, headers={"Cache-Control": "private, no-store"})


class MyTicketView(APIView):
    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [HasCitizenToken]

    @extend_schema(
        operation_id="public_my_ticket",
        summary="One of my tickets, as with its query code",
        responses={
            200: PublicTicketSerializer,
            401: Unauthorized,
            404: OpenApiResponse(ErrorOut, description="Not a ticket of this phone"),
        },
        tags=["public"],
    )
    def get(self, request, number: str):
        ticket = my_ticket(request.auth, number)
        if ticket is None:
            body = {"error": "not_found", "message": gettext("No ticket of this phone has this number.")}
            return Response(body, status=status.HTTP_404_NOT_FOUND)
        data = PublicTicketSerializer(citizen_view(ticket)).data
        return Response(data, headers={"Cache-Control": "private, no-store"})
