"""The REST API, assembled from each app's router. OpenAPI at /api/openapi.json, docs at /api/docs.

Two ways to sign in, tried in this order: a personal API token (`Authorization: Bearer …`, created at
/tokens/), or the site's session (the same account as the pages; unsafe methods then need the CSRF token).
"""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from lastweek.api.auth import ApiTokenAuth
from lastweek.compliance.api import router as compliance_router
from lastweek.goals.actions import OkrError
from lastweek.goals.api import router as goals_router
from lastweek.reports.actions import SubmissionError
from lastweek.reports.api import router as reports_router
from lastweek.reports.api import submission_error_status

# The bearer check comes first: without a header it passes, and the session check runs.
api = NinjaAPI(title="lastweek", version="1", urls_namespace="api", auth=[ApiTokenAuth(), django_auth])
api.add_router("/goals/", goals_router)
api.add_router("/", reports_router)
api.add_router("/compliance/", compliance_router)


@api.exception_handler(OkrError)
def okr_error(request: HttpRequest, error: OkrError) -> HttpResponse:
    """A change refused for its content: 400 with the reason and the field at fault."""
    return api.create_response(request, {"detail": error.message, "field": error.field}, status=400)


@api.exception_handler(SubmissionError)
def submission_error(request: HttpRequest, error: SubmissionError) -> HttpResponse:
    """An answer not recorded: 400 for its content (with the field, e.g. bullets.2), 409 for the week."""
    body = {"detail": error.message, "field": error.field, "code": error.code}
    return api.create_response(request, body, status=submission_error_status(error))
