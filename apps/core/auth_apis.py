"""JWT obtain / refresh / verify / logout under /api/v1/auth/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from apps.core.auth_serializers import (
    AuthTokenObtainInputSerializer,
    AuthTokenPairOutputSerializer,
    AuthTokenRefreshInputSerializer,
    AuthTokenVerifyInputSerializer,
    AuthTokenVerifyOutputSerializer,
    LockoutTokenObtainPairSerializer,
    StrictTokenBlacklistSerializer,
    StrictTokenRefreshSerializer,
    StrictTokenVerifySerializer,
)

AUTH_TAGS = ["auth"]


class _TokenApi(APIView):
    """Token endpoints authenticate by their body, never by a header or session."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    token_serializer_class: type

    def get_authenticate_header(self, request: Request) -> str:
        # Without it DRF turns 401 into 403 on views that have no authentication classes.
        return 'Bearer realm="api"'

    def run_serializer(self, request: Request) -> dict:
        serializer = self.token_serializer_class(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return serializer.validated_data


class AuthTokenObtainApi(_TokenApi):
    token_serializer_class = LockoutTokenObtainPairSerializer

    @extend_schema(
        tags=AUTH_TAGS,
        operation_id="auth_token_obtain",
        request=AuthTokenObtainInputSerializer,
        responses={200: AuthTokenPairOutputSerializer},
        auth=[],
        description="Exchange username and password for an access/refresh pair. Repeated failures "
        "lock the (username, IP) pair for a while (429 login_locked).",
    )
    def post(self, request: Request) -> Response:
        return Response(self.run_serializer(request))


class AuthTokenRefreshApi(_TokenApi):
    token_serializer_class = StrictTokenRefreshSerializer

    @extend_schema(
        tags=AUTH_TAGS,
        operation_id="auth_token_refresh",
        request=AuthTokenRefreshInputSerializer,
        responses={200: AuthTokenPairOutputSerializer},
        auth=[],
        description="Rotate: returns a new pair; the refresh token sent is blacklisted.",
    )
    def post(self, request: Request) -> Response:
        return Response(self.run_serializer(request))


class AuthTokenVerifyApi(_TokenApi):
    token_serializer_class = StrictTokenVerifySerializer

    @extend_schema(
        tags=AUTH_TAGS,
        operation_id="auth_token_verify",
        request=AuthTokenVerifyInputSerializer,
        responses={200: AuthTokenVerifyOutputSerializer},
        auth=[],
        description="200 if the token is valid (signature, expiry, blacklist), else 401.",
    )
    def post(self, request: Request) -> Response:
        self.run_serializer(request)
        return Response({"valid": True})


class AuthLogoutApi(_TokenApi):
    token_serializer_class = StrictTokenBlacklistSerializer

    @extend_schema(
        tags=AUTH_TAGS,
        operation_id="auth_logout",
        request=AuthTokenRefreshInputSerializer,
        responses={204: None},
        auth=[],
        description="Blacklist the refresh token: it can no longer be refreshed. Access tokens "
        "already issued stay valid until they expire (short lifetime).",
    )
    def post(self, request: Request) -> Response:
        self.run_serializer(request)
        return Response(status=status.HTTP_204_NO_CONTENT)
