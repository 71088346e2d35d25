"""People's API tokens over the API (issue #15): `Authorization: Token <secret>`.

POST /api/auth/token/ trades a username and password for a new token (the request and the
`token` field of the answer are as before; each call now issues another token, named by the
optional `name`). GET /api/auth/tokens/ lists the caller's active tokens, DELETE
/api/auth/tokens/<id>/ revokes one, POST /api/auth/logout/ revokes the token the request came
with (and ends the session of a session caller)."""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.services import tokens
from grids.tokens import ApiToken


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "grids.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, from POST /api/auth/token/",
        }


class ApiTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, required=False, help_text=gettext_lazy("what the token is for")
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "kind",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
        ]
        read_only_fields = fields


class IssuedApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text=gettext_lazy("the secret; shown only this once"))

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields


class ObtainTokenView(APIView):
    # Credentials in the body, a token in the answer: no session, so no CSRF to check.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=ApiTokenRequestSerializer, responses={200: IssuedApiTokenSerializer})
    def post(self, request):
        data = ApiTokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request: django-axes counts the failure and marks a locked-out caller on
        # it, and its middleware turns that into the 429.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]},
                code="authorization",
            )
        token, secret = tokens.issue(user, data.validated_data.get("name") or "API")
        token.token = secret
        body = IssuedApiTokenSerializer(token).data
        return Response(body, status=status.HTTP_200_OK)


class TokenListView(generics.ListAPIView):
    """The caller's active tokens (never their secrets)."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    queryset = ApiToken.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.active().filter(user=self.request.user)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        # Another user's token is absent, as anything outside one's reach.
        token = get_object_or_404(ApiToken.objects.active(), pk=pk, user=request.user)
        tokens.revoke(ApiToken.objects.filter(pk=token.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            tokens.revoke(ApiToken.objects.filter(pk=request.auth.pk))
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
