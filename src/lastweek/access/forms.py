"""The form for creating a personal API token."""

from django import forms
from django.conf import settings


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="What it is for, e.g. “weekly script” or “my laptop”."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Built here, not at import, so the limit follows the setting (and tests that change it).
        limit = settings.API_TOKEN_DAYS
        self.fields["days"] = forms.IntegerField(
            min_value=1,
            max_value=limit,
            initial=limit,
            label="Valid for (days)",
            help_text=f"At most {limit}. The token stops working after that.",
        )
        for field in self.fields.values():
            field.widget.attrs["class"] = "usa-input"
