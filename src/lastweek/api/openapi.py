"""The answers every operation can give, added to /api/openapi.json by the API rather than by each router:
they come from the API's own doing (sign-in, validation, reading the body), so a new operation has them
documented without anyone remembering to.

- 401 on every operation that needs a signed-in caller;
- 422 on every operation that takes parameters or a body;
- 400 (`malformed_body`) and 413 (`body_too_large`) on every operation that takes a body;
- 403 (`csrf_failed`) on every operation that changes something: a signed-in session without its CSRF
  token is refused.

A router's own description of the same status is kept, with these codes added to it.

A parameter in the path, the query or a header is text or absent: never null. The schema django-ninja
writes for an optional one (`int | None`) allows null, which a client can only send as the text "null",
refused; it is removed here.
"""

from __future__ import annotations

from typing import Any

from lastweek.api.errors import CODES
from lastweek.api_contract import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}


def add_common_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the common answers on every operation, each naming the codes it may carry."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            for status, codes in _common_codes(method, operation).items():
                _declare(operation.setdefault("responses", {}), status, codes)
            for parameter in operation.get("parameters", []):
                _without_null(parameter["schema"])
    return schema


def _without_null(schema: dict[str, Any]) -> None:
    choices = [choice for choice in schema.pop("anyOf", []) if choice.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def _common_codes(method: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if operation.get("security"):
        found[401] = ["not_authenticated", "invalid_token"]
    if operation.get("parameters") or operation.get("requestBody"):
        found[422] = ["invalid"]
    if operation.get("requestBody"):
        found[400] = ["malformed_body"]
        found[413] = ["body_too_large"]
    if method in UNSAFE_METHODS:
        found[403] = ["csrf_failed"]
    return found


def _declare(responses: dict[Any, Any], status: int, codes: list[str]) -> None:
    said = "; ".join(f"`{code}`: {CODES[code][1]}" for code in codes)
    # django-ninja keys the responses by number; JSON makes them text.
    existing = responses.get(status, responses.get(str(status)))
    if existing is None:
        responses[status] = {
            "description": said,
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    else:
        existing["description"] = f"{existing.get('description', '')}; {said}".lstrip("; ")
