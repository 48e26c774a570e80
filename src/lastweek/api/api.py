"""The REST API, assembled from each app's router. OpenAPI at /api/openapi.json, docs at /api/docs.

Session sign-in for now (the same account as the site); personal API tokens come later.
"""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from lastweek.compliance.api import router as compliance_router
from lastweek.goals.actions import OkrError
from lastweek.goals.api import router as goals_router

api = NinjaAPI(title="lastweek", version="1", urls_namespace="api", auth=django_auth)
api.add_router("/goals/", goals_router)
api.add_router("/compliance/", compliance_router)


@api.exception_handler(OkrError)
def okr_error(request: HttpRequest, error: OkrError) -> HttpResponse:
    """A change refused for its content: 400 with the reason and the field at fault."""
    return api.create_response(request, {"detail": error.message, "field": error.field}, status=400)
