"""The REST API, assembled from each app's router. OpenAPI at /api/openapi.json, docs at /api/docs.

Two ways to sign in, tried in this order: a personal API token (`Authorization: Bearer …`, created at
/tokens/), or the site's session (the same account as the pages; unsafe methods then need the CSRF token).
Every refusal has one body, {detail, field, code} (see api/errors.py); the schema documents every status
each operation answers (see api/openapi.py). The version is in the path: see "API versioning and
deprecation" in docs/web.md.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern
from ninja import NinjaAPI

from lastweek.api import errors
from lastweek.api.auth import ApiTokenAuth, SessionAuth
from lastweek.api.openapi import add_common_answers
from lastweek.compliance.api import router as compliance_router
from lastweek.goals.api import router as goals_router
from lastweek.reports.api import router as reports_router


class LastweekApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return add_common_answers(super().get_openapi_schema(**kwargs))

    @property
    def urls(self) -> tuple[list[Any], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = errors.method_not_allowed_as_error(self, pattern.callback)
        return patterns, app_name, namespace


# The bearer check comes first: without a header it passes, and the session check runs.
api = LastweekApi(title="lastweek", version="1", urls_namespace="api", auth=[ApiTokenAuth(), SessionAuth()])
api.add_router("/goals/", goals_router)
api.add_router("/", reports_router)
api.add_router("/compliance/", compliance_router)
errors.install(api)
