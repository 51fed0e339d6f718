"""API tokens (django-rest-knox): issued for a user name and password (and the TOTP code where the
account has a second factor), expiring, revocable; docs/security.md.

POST /api/v1/auth/token/      {username, password[, otp]} → {token, expiry}
POST /api/v1/auth/logout/     revokes the token the call carries
POST /api/v1/auth/logoutall/  revokes every token of the account
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from web import twofactor


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text=_("The authenticator app's code, where required.")
    )

    def validate(self, attrs: dict) -> dict:
        # django-axes counts a failure here exactly as on the console's /login/.
        user = authenticate(self.context["request"], username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError(_("Wrong user name or password."), code="authorization")
        attrs["user"] = user
        return attrs


class OtpEnrolmentRequired(exceptions.PermissionDenied):
    default_detail = _("Your role must use two-factor authentication: log in to the console once to set it up.")
    default_code = "otp_enrolment_required"


def issue_token(user) -> tuple[AuthToken, str]:
    """A new token; the oldest live ones beyond API_TOKENS_PER_USER are revoked."""
    with transaction.atomic():
        type(user).objects.select_for_update().filter(pk=user.pk).first()  # one issue per account at a time
        keep = max(settings.API_TOKENS_PER_USER, 1) - 1
        live = list(AuthToken.objects.filter(user=user).order_by("-created").values_list("digest", flat=True))
        AuthToken.objects.filter(digest__in=live[keep:]).delete()
        return AuthToken.objects.create(user=user)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer(
            "ApiToken", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
        ),
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if twofactor.needs_second_factor(user):
            if not twofactor.has_device(user):
                raise OtpEnrolmentRequired()
            if twofactor.verify(user, serializer.validated_data.get("otp", "")) is None:
                raise serializers.ValidationError({"otp": [_("Wrong or expired code.")]})
        instance, token = issue_token(user)
        user_logged_in.send(sender=type(user), request=request, user=user)
        expiry = serializers.DateTimeField().to_representation(instance.expiry)
        return Response({"token": token, "expiry": expiry})


class LogoutView(KnoxLogoutView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)


class LogoutAllView(KnoxLogoutAllView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)
