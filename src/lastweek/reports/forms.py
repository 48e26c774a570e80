"""The weekly answer form: one text box per bullet, up to the directive's maximum.

Limits are not checked here: `reports.submit()` checks them for every channel, and its field-level errors
are put back on the box they concern (`bullets.2` → the second filled box).
"""

from __future__ import annotations

import uuid

from django import forms

from lastweek.directives.models import Directive
from lastweek.reports.actions import SubmissionError


class AnswerForm(forms.Form):
    # A fresh key per rendered form: a double click, or the browser resending the POST, is stored once.
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, directive: Directive, *args, initial_bullets: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.directive = directive
        self.fields["submission_key"].initial = uuid.uuid4()
        for position in range(1, directive.max_bullets + 1):
            self.fields[self.bullet_name(position)] = forms.CharField(
                required=False,
                strip=True,
                label=f"Bullet {position}",
                initial=initial_bullets[position - 1] if position <= len(initial_bullets) else "",
                widget=forms.Textarea(attrs={"rows": 2, "class": "usa-textarea lastweek-bullet"}),
            )

    @staticmethod
    def bullet_name(position: int) -> str:
        return f"bullet_{position}"

    def bullet_fields(self) -> list[forms.BoundField]:
        return [self[self.bullet_name(n)] for n in range(1, self.directive.max_bullets + 1)]

    def filled(self) -> list[tuple[str, str]]:
        """(field name, text) of every box with text, in order: what submit() numbers 1, 2, …"""
        names = (self.bullet_name(n) for n in range(1, self.directive.max_bullets + 1))
        return [(name, self.cleaned_data[name]) for name in names if self.cleaned_data.get(name)]

    def source_id(self, user_id: int) -> str:
        key = self.cleaned_data.get("submission_key")
        return f"{user_id}:{key}" if key else ""

    def add_submission_error(self, error: SubmissionError, filled: list[tuple[str, str]]) -> None:
        """Show submit()'s refusal beside the box it names, or above the form for the answer as a whole."""
        field = None
        if error.field.startswith("bullets."):
            position = int(error.field.split(".", 1)[1])
            if 1 <= position <= len(filled):
                field = filled[position - 1][0]
        self.add_error(field, error.message)
