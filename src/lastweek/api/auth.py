"""Bearer-token sign-in for the API: personal tokens from `access.tokens`, beside the site's session."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from lastweek.access.tokens import authenticate_token


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer lw_…`. The caller then acts as the token's owner (`request.user`)."""

    def authenticate(self, request: HttpRequest, token: str):
        found = authenticate_token(token.strip())
        if found is None:
            # Refused outright rather than passed on to session sign-in, which would answer a bearer
            # client's POST with a confusing CSRF failure.
            raise HttpError(
                401, "The API token is unknown, expired or revoked: create a new one at /tokens/."
            )
        request.user = found.user
        request.api_token = found
        return found.user
