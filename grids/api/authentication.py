"""The authentication class of people's API tokens, in a module of its own: DRF imports
DEFAULT_AUTHENTICATION_CLASSES while it builds its views, so this must not import them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from grids.services import tokens

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("The header is 'Authorization: Token <token>'.")
            )
        try:
            secret = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not text.")) from exc
        token = tokens.find(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown, expired or revoked token."))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return KEYWORD
