"""Forms for the agency policy page, the public verification page and the add-only admin pages."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from lastweek.codes import CROCKFORD, VERIFY_CODE_LENGTH, normalize_verify_code
from lastweek.directives.models import ContentSetting, Directive, Mode, Policy
from lastweek.org.models import Agency, Unit

AGENCY_TARGET = "agency"
# A decision may start a little in the past: the time typed was "now" when the preview was asked for.
PAST_TOLERANCE = dt.timedelta(minutes=30)


class PolicyForm(forms.Form):
    """One decision for one directive: the whole agency or one of its units, a mode and a reason.

    `target` lists the agency and its upper units by full path; `unit` takes the number of any unit of
    the agency, for the deeper levels a select could not hold.
    """

    directive = forms.ModelChoiceField(
        queryset=Directive.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    target = forms.ChoiceField(label="Applies to", widget=forms.Select(attrs={"class": "usa-select"}))
    unit = forms.IntegerField(
        required=False,
        min_value=1,
        label="Or a unit number",
        help_text="Any unit of the agency, at any level; it takes precedence over the list above.",
        widget=forms.NumberInput(attrs={"class": "usa-input usa-input--small"}),
    )
    mode = forms.ChoiceField(
        choices=Mode.choices, widget=forms.RadioSelect(attrs={"class": "usa-radio__input"})
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "usa-textarea"}),
        max_length=2000,
        help_text="Shown to everyone the decision affects.",
    )
    effective_from = forms.DateTimeField(
        required=False,
        label="Effective from",
        help_text="Leave blank to start now.",
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "usa-input"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def __init__(
        self,
        *args,
        agency: Agency,
        directives: QuerySet[Directive],
        unit_choices: list[tuple[str, str]],
        **kwargs,
    ) -> None:
        # Distinct ids: the page also holds the content-setting form.
        kwargs.setdefault("auto_id", "policy_%s")
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.fields["directive"].queryset = directives
        self.fields["target"].choices = [(AGENCY_TARGET, f"The whole agency ({agency.code})"), *unit_choices]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why: the reason is shown to everyone the decision affects.")
        return reason

    def clean_effective_from(self) -> dt.datetime | None:
        start = self.cleaned_data.get("effective_from")
        if start is not None and start < timezone.now() - PAST_TOLERANCE:
            raise forms.ValidationError("Choose a time from now on, or leave it blank to start now.")
        return start

    def clean(self) -> dict:
        data = super().clean()
        data["target_unit"] = self._target_unit(data)
        return data

    def _target_unit(self, data: dict) -> Unit | None:
        """The unit the decision is for, or None for the whole agency; checked to be in the agency."""
        unit_id = data.get("unit")
        if unit_id is None:
            target = data.get("target", AGENCY_TARGET)
            if target == AGENCY_TARGET:
                return None
            unit_id = int(target.removeprefix("unit:"))
        unit = Unit.objects.filter(pk=unit_id, agency=self.agency).first()
        if unit is None:
            self.add_error("unit", f"Unit {unit_id} is not a unit of {self.agency.code}.")
        return unit


class ContentSettingForm(forms.Form):
    """Whether the agency's report text may leave it."""

    shares_text = forms.TypedChoiceField(
        label="Report text",
        choices=[
            ("false", "Stays inside the agency (the directive owner sees compliance figures only)"),
            ("true", "Shared with the directive owner"),
        ],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "class": "usa-textarea"}), max_length=2000
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "content_%s")
        super().__init__(*args, **kwargs)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the setting changes.")
        return reason


# Dashes a word processor or phone keyboard may put in place of the hyphen printed in the email.
_TYPOGRAPHIC_DASHES = re.compile("[\u2010-\u2015\u2212]")


class VerifyForm(forms.Form):
    code = forms.CharField(
        label="Code from the email",
        max_length=40,
        help_text="Ten letters and digits, like ABCDE-12345, at the bottom of the request email.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "usa-input"}),
    )

    def clean_code(self) -> str:
        code = normalize_verify_code(_TYPOGRAPHIC_DASHES.sub("-", self.cleaned_data["code"]))
        if len(code) != VERIFY_CODE_LENGTH or not set(code) <= set(CROCKFORD):
            raise forms.ValidationError(
                "That is not a code from a request email: "
                "codes have ten letters and digits, like ABCDE-12345."
            )
        return code


class PolicyAdminForm(forms.ModelForm):
    """The admin's way to a new policy version; saved through `set_policy`, never edited."""

    class Meta:
        model = Policy
        fields = ["directive", "agency", "unit", "mode", "reason", "effective_from"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "effective_from" in self.fields:  # absent on the read-only view of a saved policy
            self.fields["effective_from"].required = False
            self.fields["effective_from"].help_text = "Leave blank to start now."

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("agency")) == bool(data.get("unit")):
            raise forms.ValidationError("Choose either an agency or a unit, not both.")
        return data


class ContentSettingAdminForm(forms.ModelForm):
    class Meta:
        model = ContentSetting
        fields = ["agency", "shares_text", "reason"]
