"""Signing in to the API: personal tokens from `access.tokens`, beside the site's session."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from lastweek.access.tokens import authenticate_token
from lastweek.api_contract import ApiError


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer lw_…`. The caller then acts as the token's owner (`request.user`)."""

    def authenticate(self, request: HttpRequest, token: str):
        found = authenticate_token(token.strip())
        if found is None:
            # Refused outright rather than passed on to session sign-in, which would answer a bearer
            # client's POST with a confusing CSRF failure.
            raise ApiError(
                401,
                "invalid_token",
                "The API token is unknown, expired or revoked: create a new one at /tokens/.",
            )
        request.user = found.user
        request.api_token = found
        return found.user


class SessionAuth(NinjaSessionAuth):
    """The site's session; a change then needs the CSRF token. A request without a session cookie has no
    session to protect: it is not signed in (401), rather than refused for a missing CSRF token (403)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        try:
            return super()._get_key(request)
        except HttpError as error:
            raise ApiError(
                403,
                "csrf_failed",
                "A signed-in session needs the CSRF token (the X-CSRFToken header) to change anything; "
                "programs use an API token instead.",
            ) from error
