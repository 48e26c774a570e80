"""Every refusal of the API as one body, {detail, field, code}, whoever raised it: a view (`ApiError`),
`reports.submit()` (`SubmissionError`), the goals actions (`OkrError`), or django-ninja itself (sign-in,
the request's validation, an unreadable body).

`CODES` lists every code the API answers, with its status; docs/web.md has the same table, and a test
keeps the two equal. A code, once published, keeps its meaning: clients branch on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from lastweek.api_contract import ApiError
from lastweek.goals.actions import OkrError
from lastweek.reports.actions import SubmissionError

# code: (status, what it means)
CODES: dict[str, tuple[int, str]] = {
    "malformed_body": (400, "The body is not JSON."),
    "bullets_and_stock_answer": (400, "Both bullets and a stock answer: send one of them."),
    "empty": (400, "No bullet has any text, and no stock answer was chosen."),
    "too_many_bullets": (400, "More bullets than the directive's `max_bullets`."),
    "bullet_too_long": (400, "A bullet longer than the directive's `max_bullet_length`; `field` names it."),
    "unknown_stock_answer": (400, "`stock_answer_id` is not one of the directive's stock answers."),
    "value_outside_metric": (400, "The value does not fit the key result's metric (a percentage, yes/no)."),
    "unknown_key_result": (400, "`key_result_id` names no key result visible to the caller."),
    "not_authenticated": (401, "Neither an API token nor a signed-in session."),
    "invalid_token": (401, "The API token is unknown, expired or revoked, or its account is deactivated."),
    "csrf_failed": (403, "A signed-in session sent a change without its CSRF token."),
    "no_figures": (403, "The caller has no compliance figures to see: no role over a unit or agency."),
    "outside_scope": (403, "The agency or unit is outside the caller's scope."),
    "not_editor": (403, "Only the key result's owner and the objective's editors check in."),
    "not_found": (404, "Nothing the caller may see has that identifier; `field` names it."),
    "not_on_roster": (404, "The account is linked to no one on the roster, so it answers no request."),
    "not_asked": (404, "The caller is not asked in that week."),
    "method_not_allowed": (
        405,
        "The path does not take that method; the `Allow` header lists those it does.",
    ),
    "closed": (409, "The week is closed: answers are no longer taken."),
    "body_too_large": (413, "The body is larger than the server takes (2.5 MB)."),
    "invalid": (422, "The request does not match the schema; `field` names the input, `detail` says how."),
}
# Codes of refusals that depend on stored data (a directive's limits, a key result's metric, what exists):
# a request the schema allows may still meet them. Every other 400 means the schema let something through.
STORED_DATA_CODES = frozenset(
    {
        "too_many_bullets",
        "bullet_too_long",
        "unknown_stock_answer",
        "value_outside_metric",
        "unknown_key_result",
    }
)
# Refusals about the week rather than the content of an answer.
CONFLICTS = frozenset({"closed"})
NOT_AUTHENTICATED = (
    "Sign in: send `Authorization: Bearer TOKEN` with a personal API token (create one at /tokens/), "
    "or use the site's session."
)
# What django-ninja's own HttpErrors mean, by status.
NINJA_CODES = {400: "malformed_body", 401: "not_authenticated", 403: "csrf_failed", 404: "not_found"}


def install(api: NinjaAPI) -> None:
    """Answer every refusal of `api` with the one error body."""
    api.add_exception_handler(ApiError, lambda request, error: _answer(api, request, error))
    api.add_exception_handler(HttpError, lambda request, error: _answer(api, request, _from_ninja(error)))
    api.add_exception_handler(
        AuthenticationError, lambda request, error: _answer(api, request, _signed_out())
    )
    api.add_exception_handler(ValidationError, lambda request, error: _answer(api, request, _invalid(error)))
    api.add_exception_handler(Http404, lambda request, error: _answer(api, request, _not_found()))
    api.add_exception_handler(SubmissionError, lambda request, error: _answer(api, request, _refused(error)))
    api.add_exception_handler(OkrError, lambda request, error: _answer(api, request, _okr(error)))
    api.add_exception_handler(RequestDataTooBig, lambda request, error: _answer(api, request, _too_large()))


def method_not_allowed_as_error(api: NinjaAPI, view: Callable[..., HttpResponseBase]) -> Callable:
    """`view`, answering a method its path does not take with the error body (django-ninja answers it
    with plain text), keeping the `Allow` header."""

    @functools.wraps(view)
    def answering(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        error = ApiError(405, "method_not_allowed", f"{request.method} is not taken here; {allowed} is.")
        answer = _answer(api, request, error)
        answer["Allow"] = allowed
        return answer

    return answering


def _answer(api: NinjaAPI, request: HttpRequest, error: ApiError) -> HttpResponse:
    return api.create_response(request, error.body(), status=error.status_code)


def _from_ninja(error: HttpError) -> ApiError:
    code = NINJA_CODES.get(error.status_code, "invalid")
    detail = error.message
    if code == "malformed_body":
        detail = "The request body is not JSON: send one JSON object."
    return ApiError(error.status_code, code, detail)


def _signed_out() -> ApiError:
    return ApiError(401, "not_authenticated", NOT_AUTHENTICATED)


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", "The request body is larger than 2.5 MB.")


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found.")


def _refused(error: SubmissionError) -> ApiError:
    """An answer not recorded: 400 for its content (with the field, e.g. bullets.2), 409 for the week."""
    return ApiError(409 if error.code in CONFLICTS else 400, error.code, error.message, error.field)


def _okr(error: OkrError) -> ApiError:
    """A change refused for its content: 400 with the reason and the field at fault."""
    return ApiError(400, error.code, error.message, error.field or None)


def _invalid(error: ValidationError) -> ApiError:
    """The request does not match the schema: 422 naming the first input at fault, every problem said."""
    problems = [_problem(item) for item in error.errors]
    shown = "; ".join(f"{field}: {message}" if field else message for field, message in problems[:5])
    if len(problems) > 5:
        shown += f"; and {len(problems) - 5} more"
    return ApiError(422, "invalid", shown, problems[0][0] if problems else None)


def _problem(item: dict[str, Any]) -> tuple[str | None, str]:
    """(field, message) of one of django-ninja's validation errors. Its location starts with where the
    input was (body, query, path, header), and for a body with the view's parameter name; list items are
    numbered from 1, as everywhere in the API (bullets.2 is the second bullet)."""
    source, *rest = item.get("loc") or ("",)
    if source == "body":
        rest = rest[1:]
    parts = [str(part + 1) if isinstance(part, int) else str(part) for part in rest]
    field = ".".join(parts) or None
    message = str(item.get("msg", "Invalid value."))
    if field is None and source == "body":
        message = "The request body is missing or not a JSON object."
    return field, message
