"""What every app's API router shares, so that the whole REST API answers alike and says so in its schema.

A ground-floor module, like `rows`: the routers of reports, goals and compliance import it; it imports
no app. The API itself (`lastweek.api`) handles the errors and adds the answers every operation can give.

- One error body for every refusal: `ErrorOut`, {detail, field, code}. A view refuses by raising
  `ApiError` with the status, a stable code and the field at fault; `refusals(404, 409)` declares the
  statuses on its operation.
- The parameter and body types carry the limits the server enforces, so that /api/openapi.json states
  exactly those: identifiers within a database key's range, text without NUL characters (PostgreSQL
  cannot store one), integers that are JSON integers.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from ninja.errors import HttpError
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

# The largest key a BigAutoField holds on PostgreSQL and SQLite; larger numbers cannot name anything.
MAX_ID = 2**63 - 1
# Text holding no NUL character. PostgreSQL refuses one in text, in a query parameter as in a column.
NO_NUL = "^[^\\x00]*$"


class ErrorOut(Schema):
    """Every refusal of the API, whatever its status."""

    detail: str = Field(description="What was wrong and what to do, for people.")
    field: str | None = Field(
        description="The input at fault: a body property (`bullets.2` is the second bullet), a query or "
        "path parameter, or a header; null when the refusal is about no one input."
    )
    code: str = Field(description="What was wrong, for programs: stable, listed in the API documentation.")


class ApiError(HttpError):
    """A refusal: its status, a stable `code`, the message for people and the field at fault."""

    def __init__(self, status_code: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(status_code, detail)
        self.code, self.field = code, field

    def body(self) -> dict[str, str | None]:
        return {"detail": self.message, "field": self.field, "code": self.code}


def refusals(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers of an operation, for its `response=`: `{200: Out, **refusals(404)}`."""
    return dict.fromkeys(statuses, ErrorOut)


def _json_integer(value: Any) -> Any:
    # Python's int() takes "5" and True; JSON Schema's integer is neither a string nor a boolean.
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An identifier in the path or the query (where every value arrives as text).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The same, optional: absent means "any" (a query has no null: see api/openapi.py).
OptionalId = Annotated[int | None, Field(ge=1, le=MAX_ID)]


def body_integer(low: int, high: int) -> Any:
    """A JSON integer from `low` to `high` in a body."""
    # The bounds first, so that the schema states them as minimum and maximum.
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_json_integer)]


# An identifier in a JSON body: a JSON integer, not a string or a boolean.
BodyId = body_integer(1, MAX_ID)


def text(max_length: int | None = None, *, pattern: str = NO_NUL) -> Any:
    """Text of at most `max_length` characters (code points, as JSON Schema counts them) without NUL."""
    return Annotated[str, Field(max_length=max_length, pattern=pattern)]
