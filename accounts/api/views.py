from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import services
from accounts.api import serializers as s


class AuthThrottleMixin:
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(AuthThrottleMixin, APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=s.RegisterSerializer, responses={201: s.UserSerializer})
    def post(self, request):
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


# Answers that carry tokens are never stored by a browser or a proxy (API.md): never_cache
# sets `Cache-Control: no-store` (with no-cache, must-revalidate, private, max-age=0).
@method_decorator(never_cache, name="dispatch")
class LoginView(AuthThrottleMixin, TokenObtainPairView):
    """Email and password in, an access and a refresh token out. 401 for wrong credentials
    or an inactive (deleted) account."""

    serializer_class = TokenObtainPairSerializer
    authentication_classes = []

    @extend_schema(
        request=s.LoginSerializer,
        responses={
            200: s.TokenPairSerializer,
            401: OpenApiResponse(description="Wrong credentials"),
        },
    )
    def post(self, request, *args, **kwargs):
        s.LoginSerializer(data=request.data).is_valid(raise_exception=True)
        return super().post(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class RefreshView(AuthThrottleMixin, TokenRefreshView):
    """A new access and refresh token; the refresh token sent is revoked (rotation)."""

    serializer_class = s.RotateRefreshSerializer
    authentication_classes = []
    throttle_scope = "refresh"  # its own, looser limit than login (THROTTLE_REFRESH_RATE)

    @extend_schema(
        request=s.RefreshSerializer,
        responses={200: s.TokenPairSerializer, 401: OpenApiResponse(description="Invalid token")},
    )
    def post(self, request, *args, **kwargs):
        s.RefreshSerializer(data=request.data).is_valid(raise_exception=True)
        return super().post(request, *args, **kwargs)


class LogoutView(AuthThrottleMixin, APIView):
    """Revoke one refresh token. Works without an access token, so an app can always log out."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    @extend_schema(
        request=s.RefreshSerializer,
        responses={204: None, 401: OpenApiResponse(description="Invalid or revoked token")},
    )
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            RefreshToken(data.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise AuthenticationFailed(str(exc), code="token_not_valid") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_revoke_refresh_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: s.ProfileSerializer})
    def get(self, request):
        return Response(s.ProfileSerializer(request.user).data)

    @extend_schema(request=s.ProfileUpdateSerializer, responses={200: s.ProfileSerializer})
    def patch(self, request):
        data = s.ProfileUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(s.ProfileSerializer(user).data)

    @extend_schema(request=s.AccountDeleteSerializer, responses={204: None})
    def delete(self, request):
        data = s.AccountDeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_delete(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(AuthThrottleMixin, APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
