"""Forms for objectives with their key results, check-ins, and linking bullets to key results."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet

from lastweek.goals.models import CheckIn, KeyResult, Objective

CONFIDENCE_CHOICES = [(n, f"{n} of 10") for n in range(10, 0, -1)]


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["title", "description", "period", "code", "owner_role", "status", "supports"]
        widgets = {
            "title": forms.TextInput(attrs={"class": "usa-input"}),
            "description": forms.Textarea(attrs={"class": "usa-textarea", "rows": 3}),
            "period": forms.TextInput(attrs={"class": "usa-input usa-input--small"}),
            "code": forms.TextInput(attrs={"class": "usa-input usa-input--small"}),
            "owner_role": forms.TextInput(attrs={"class": "usa-input"}),
            "status": forms.Select(attrs={"class": "usa-select"}),
            "supports": forms.CheckboxSelectMultiple,
        }
        help_texts = {"code": "Leave blank to number it after the unit, e.g. VBA-3."}

    def __init__(self, *args, candidates: QuerySet[KeyResult], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["supports"].queryset = candidates
        self.fields["supports"].label_from_instance = lambda kr: f"{kr.reference} {kr.title}"
        self.fields["supports"].label = "Supports these key results of higher levels"


def parent_candidates(objective: Objective, period: str) -> QuerySet[KeyResult]:
    """Key results this objective could support: those of the agency and of the units above its unit,
    for the same period."""
    higher = Q(objective__unit=None)
    if objective.unit_id:
        ancestor_ids = [int(part) for part in objective.unit.path.strip("/").split("/")[:-1]]
        higher |= Q(objective__unit_id__in=ancestor_ids)
    else:
        higher = Q(pk__in=[])
    return (
        KeyResult.objects.filter(higher, objective__agency_id=objective.agency_id, objective__period=period)
        .exclude(objective__status=Objective.Status.CANCELLED)
        .select_related("objective")
        .order_by("objective__unit__depth", "objective__code", "position")
    )


class KeyResultForm(forms.ModelForm):
    class Meta:
        model = KeyResult
        fields = ["title", "metric", "start_value", "target_value", "current_value", "unit_of_measure"]
        widgets = {
            "title": forms.TextInput(attrs={"class": "usa-input"}),
            "metric": forms.Select(attrs={"class": "usa-select"}),
            "start_value": forms.NumberInput(attrs={"class": "usa-input usa-input--small", "step": "any"}),
            "target_value": forms.NumberInput(attrs={"class": "usa-input usa-input--small", "step": "any"}),
            "current_value": forms.NumberInput(attrs={"class": "usa-input usa-input--small", "step": "any"}),
            "unit_of_measure": forms.TextInput(attrs={"class": "usa-input usa-input--small"}),
        }
        labels = {"start_value": "Start", "target_value": "Target", "current_value": "Current"}


def key_result_formset(extra: int):
    return forms.inlineformset_factory(
        Objective,
        KeyResult,
        form=KeyResultForm,
        extra=extra,
        min_num=1,
        validate_min=True,
        can_delete=True,
    )


class CheckInForm(forms.ModelForm):
    confidence = forms.TypedChoiceField(
        choices=CONFIDENCE_CHOICES,
        coerce=int,
        initial=7,
        widget=forms.Select(attrs={"class": "usa-select"}),
        help_text="How likely the target is met by the end of the period.",
    )

    class Meta:
        model = CheckIn
        fields = ["value", "confidence", "comment"]
        widgets = {
            "value": forms.NumberInput(attrs={"class": "usa-input usa-input--small", "step": "any"}),
            "comment": forms.Textarea(attrs={"class": "usa-textarea", "rows": 2}),
        }


class ScoreForm(forms.Form):
    confirm = forms.BooleanField(label="Close the objective and score each key result by its progress")
