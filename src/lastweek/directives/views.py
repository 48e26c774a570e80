"""Pages for the participation policy: agency administrators' decisions, the exclusions report for
directive owners and auditors, and the public page that tells a genuine request email from a fake one."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lastweek.access.scopes import administered_agencies, exclusion_filter
from lastweek.directives import actions
from lastweek.directives.forms import ContentSettingForm, PolicyForm, VerifyForm
from lastweek.directives.models import (
    ASKED_MODES,
    Assignment,
    ContentSetting,
    Cycle,
    Directive,
    Exemption,
    Mode,
    Policy,
    RequestMail,
    Source,
)
from lastweek.org.models import Agency, Unit

log = logging.getLogger(__name__)
AnyUser = AbstractBaseUser | AnonymousUser

# The unit select on the policy form lists levels from the top down while they fit in this many options.
UNIT_CHOICES_MAX = 400
PATH_SEPARATOR = " › "
# Distinct reasons listed per agency and category in the exclusions report; the rest are counted.
REASONS_SHOWN = 10
# Public code lookups per client address per window.
VERIFY_LOOKUPS = 20
VERIFY_WINDOW_SECONDS = 600


# The agency policy page


@login_required
def policy_agencies(request: HttpRequest) -> HttpResponse:
    """The agencies whose participation policy the user decides."""
    agencies = list(administered_agencies(request.user))
    if not agencies:
        raise PermissionDenied("Only agency administrators set participation policy.")
    return render(request, "directives/policy_agencies.html", {"agencies": agencies})


@login_required
@require_http_methods(["GET", "POST"])
def agency_policy(request: HttpRequest, code: str) -> HttpResponse:
    """The decisions in force for an agency, and the forms to change them: preview first, then save."""
    agency = get_object_or_404(Agency, code=code.upper())
    if not administered_agencies(request.user).filter(pk=agency.pk).exists():
        raise PermissionDenied(f"You do not administer {agency.code}.")
    directives = directives_reaching(agency)
    units = unit_choices(agency)
    setting = ContentSetting.objects.filter(agency=agency).select_related("decided_by").first()
    policy_form = PolicyForm(agency=agency, directives=directives, unit_choices=units)
    content_form = ContentSettingForm(
        initial={"shares_text": "true" if setting and setting.shares_text else "false"}
    )
    preview = None
    if request.method == "POST" and request.POST.get("form") == "content":
        content_form = ContentSettingForm(request.POST)
        if content_form.is_valid():
            return _save_content_setting(request, agency, content_form)
    elif request.method == "POST":
        policy_form = PolicyForm(request.POST, agency=agency, directives=directives, unit_choices=units)
        if policy_form.is_valid():
            try:
                if request.POST.get("action") == "save":
                    return _save_policy(request, agency, policy_form)
                preview = _preview(agency, policy_form)
            except actions.DirectiveError as exc:
                policy_form.add_error(None, str(exc))
    context = {
        "agency": agency,
        "sections": policy_sections(agency, directives),
        "content_setting": setting,
        "policy_form": policy_form,
        "content_form": content_form,
        "preview": preview,
    }
    return render(request, "directives/agency_policy.html", context)


def _save_policy(request: HttpRequest, agency: Agency, form: PolicyForm) -> HttpResponse:
    data = form.cleaned_data
    unit = data["target_unit"]
    policy = actions.set_policy(
        data["directive"],
        agency=None if unit else agency,
        unit=unit,
        mode=data["mode"],
        reason=data["reason"],
        actor=request.user,
        effective_from=data["effective_from"],
    )
    target = f"unit {unit_labels([unit.pk])[unit.pk]}" if unit else agency.code
    messages.success(
        request, f"Saved: {data['directive']} is {policy.get_mode_display().lower()} for {target}."
    )
    return redirect("directives:agency-policy", code=agency.code)


def _save_content_setting(request: HttpRequest, agency: Agency, form: ContentSettingForm) -> HttpResponse:
    setting = actions.set_content_setting(
        agency,
        shares_text=form.cleaned_data["shares_text"],
        reason=form.cleaned_data["reason"],
        actor=request.user,
    )
    where = "is shared with the directive owner" if setting.shares_text else "stays inside the agency"
    messages.success(request, f"Saved: {agency.code}'s report text {where}.")
    return redirect("directives:agency-policy", code=agency.code)


@dataclass
class Preview:
    """A PolicyPreview with the names the page shows."""

    target: str
    mode: str
    employees: int
    changes: list[tuple[str, str, int]]
    units: list[tuple[str, int]]
    overridden_below: list[tuple[str, Policy]]


def _preview(agency: Agency, form: PolicyForm) -> Preview:
    data = form.cleaned_data
    unit = data["target_unit"]
    result = actions.preview_policy(
        data["directive"], agency=None if unit else agency, unit=unit, mode=data["mode"]
    )
    labels = unit_labels(
        [u.pk for u, _ in result.units]
        + [p.unit_id for p in result.overridden_below]
        + ([unit.pk] if unit else [])
    )
    mode_names = dict(Mode.choices)
    return Preview(
        target=labels[unit.pk] if unit else f"the whole agency ({agency.code})",
        mode=mode_names[data["mode"]],
        employees=result.employees,
        changes=[(mode_names[old], mode_names[new], n) for old, new, n in result.changes],
        units=[(labels[u.pk], n) for u, n in result.units],
        overridden_below=[(labels[p.unit_id], p) for p in result.overridden_below],
    )


def directives_reaching(agency: Agency) -> QuerySet[Directive]:
    """Active and draft directives whose audience includes the agency or some of its units."""
    reaches = Q(whole_organization=True) | Q(audience_agencies=agency) | Q(audience_units__agency=agency)
    live = Directive.objects.filter(status__in=[Directive.Status.ACTIVE, Directive.Status.DRAFT])
    return Directive.objects.filter(pk__in=live.filter(reaches).values("pk")).order_by("title", "pk")


def unit_choices(agency: Agency) -> list[tuple[str, str]]:
    """The agency's units as select options with their full path, as many levels down as fit."""
    per_level = (
        Unit.objects.filter(agency=agency).values_list("depth").annotate(n=Count("id")).order_by("depth")
    )
    listed, deepest = 0, -1
    for depth, count in per_level:
        if listed + count > UNIT_CHOICES_MAX:
            break
        listed, deepest = listed + count, depth
    units = list(Unit.objects.filter(agency=agency, depth__lte=deepest).values_list("id", "path"))
    labels = unit_labels_from_paths(dict(units))
    return [(f"unit:{unit_id}", labels[unit_id]) for unit_id, _ in units]


def unit_labels(unit_ids: list[int]) -> dict[int, str]:
    """The full path of each unit, top level first, its levels joined by PATH_SEPARATOR."""
    paths = dict(Unit.objects.filter(pk__in=set(unit_ids)).values_list("id", "path"))
    return unit_labels_from_paths(paths)


def unit_labels_from_paths(paths: dict[int, str]) -> dict[int, str]:
    """Full paths of units given their materialized paths: one query for every name along them."""
    ids = {int(part) for path in paths.values() for part in path.strip("/").split("/") if part}
    names = dict(Unit.objects.filter(pk__in=ids).values_list("id", "name"))
    return {
        unit_id: PATH_SEPARATOR.join(names.get(int(part), "?") for part in path.strip("/").split("/"))
        for unit_id, path in paths.items()
    }


@dataclass
class Decision:
    policy: Policy
    target: str
    earlier: list[Policy] = field(default_factory=list)


@dataclass
class Section:
    directive: Directive
    decisions: list[Decision]
    scheduled: list[Decision]


def policy_sections(agency: Agency, directives: QuerySet[Directive]) -> list[Section]:
    """Per directive, the decisions in force for the agency and its units, each with its earlier
    versions (newest first), and the decisions that take effect later."""
    directives = list(directives)
    now = timezone.now()
    versions: dict[tuple, list[Policy]] = defaultdict(list)
    scheduled: dict[int, list[Policy]] = defaultdict(list)
    rows = (
        Policy.objects.filter(directive__in=directives)
        .filter(Q(agency=agency) | Q(unit__agency=agency))
        .select_related("decided_by", "unit")
        .order_by("-decided_at", "-id")
    )
    for policy in rows:
        if policy.effective_from > now:
            scheduled[policy.directive_id].insert(0, policy)
        else:
            versions[policy.directive_id, policy.agency_id, policy.unit_id].append(policy)
    in_force = {directive.pk: actions.current_policies(directive, agency) for directive in directives}
    labels = unit_labels(
        [p.unit_id for policies in in_force.values() for p in policies if p.unit_id]
        + [p.unit_id for policies in scheduled.values() for p in policies if p.unit_id]
    )

    def target(policy: Policy) -> str:
        return labels[policy.unit_id] if policy.unit_id else f"The whole agency ({agency.code})"

    sections = []
    for directive in directives:
        decisions = []
        for current in in_force[directive.pk]:
            history = versions[directive.pk, current.agency_id, current.unit_id]
            shown = next((p for p in history if p.pk == current.pk), current)
            decisions.append(Decision(shown, target(current), [p for p in history if p.pk != current.pk]))
        later = [Decision(p, target(p)) for p in scheduled[directive.pk]]
        sections.append(Section(directive, decisions, later))
    return sections


# The exclusions report


@dataclass
class AgencyExclusions:
    """One agency's row: how many were asked and how many were left out, and why."""

    code: str
    name: str
    total: int = 0
    asked: int = 0
    paused: int = 0
    exempt_by_policy: int = 0
    on_leave: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    more_reasons: dict[str, int] = field(default_factory=dict)

    def category_counts(self) -> list[int]:
        return [self.by_category.get(category, 0) for category in Exemption.Category.values]

    def reason_lists(self) -> list[tuple[str, list[tuple[str, int]], int]]:
        """(heading, reasons with counts, distinct reasons not listed) for each category with reasons."""
        headings = {"paused": "Paused", "exempt": "Exempt by policy"} | {
            f"exemption:{value}": f"Individual exemption: {label.lower()}"
            for value, label in Exemption.Category.choices
        }
        return [
            (heading, self.reasons[kind], self.more_reasons.get(kind, 0))
            for kind, heading in headings.items()
            if kind in self.reasons
        ]


def exclusion_report(cycle: Cycle, scope: Q) -> list[AgencyExclusions]:
    """Per agency, counts and reasons for one cycle; three grouped queries whatever the size."""
    assignments = Assignment.objects.filter(scope, cycle=cycle)
    by_policy = Q(source__in=[Source.AGENCY, Source.UNIT])
    counts = (
        assignments.values("agency_id", "agency__code", "agency__name")
        .annotate(
            total=Count("id"),
            asked=Count("id", filter=Q(mode__in=ASKED_MODES)),
            paused=Count("id", filter=Q(mode=Mode.PAUSED)),
            exempt_by_policy=Count("id", filter=Q(mode=Mode.EXEMPT) & by_policy),
            on_leave=Count("id", filter=Q(on_leave=True)),
            **{
                f"exemption_{category}": Count("id", filter=Q(exemption__category=category))
                for category in Exemption.Category.values
            },
        )
        .order_by("agency__code")
    )
    rows = {}
    for row in counts:
        rows[row["agency_id"]] = AgencyExclusions(
            code=row["agency__code"],
            name=row["agency__name"],
            total=row["total"],
            asked=row["asked"],
            paused=row["paused"],
            exempt_by_policy=row["exempt_by_policy"],
            on_leave=row["on_leave"],
            by_category={c: row[f"exemption_{c}"] for c in Exemption.Category.values},
        )
    policy_reasons = assignments.filter(by_policy, mode__in=[Mode.PAUSED, Mode.EXEMPT]).values(
        "agency_id", kind=F("mode"), text=F("policy__reason")
    )
    exemption_reasons = assignments.filter(exemption__isnull=False).values(
        "agency_id", kind=F("exemption__category"), text=F("exemption__reason")
    )
    for prefix, grouped in [("", policy_reasons), ("exemption:", exemption_reasons)]:
        for row in _top_reasons(grouped):
            agency = rows.get(row["agency_id"])
            if agency is None:
                continue
            kind = prefix + row["kind"]
            agency.reasons.setdefault(kind, []).append((row["text"] or "(no reason recorded)", row["n"]))
            agency.more_reasons[kind] = row["reasons"] - min(row["reasons"], REASONS_SHOWN)
    return list(rows.values())


def _top_reasons(grouped: QuerySet) -> list[dict]:
    """Distinct reasons with their counts: the REASONS_SHOWN most frequent per agency and kind, each with
    the number of distinct reasons in its group. Ranked in the database, so a cycle with thousands of
    individual reasons still reads a few rows."""
    counted = grouped.annotate(n=Count("id")).order_by()
    inner, params = counted.query.get_compiler(using=counted.db).as_sql()
    # The ORM puts a window over an aggregate into GROUP BY, which no database accepts: rank outside.
    sql = f"""
        SELECT agency_id, kind, text, n, reasons FROM (
            SELECT g.*,
                   ROW_NUMBER() OVER (PARTITION BY agency_id, kind ORDER BY n DESC, text) AS position,
                   COUNT(*) OVER (PARTITION BY agency_id, kind) AS reasons
            FROM ({inner}) g
        ) ranked
        WHERE position <= %s
        ORDER BY agency_id, kind, position
    """
    with connections[counted.db].cursor() as cursor:
        cursor.execute(sql, [*params, REASONS_SHOWN])
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@login_required
def exclusions(request: HttpRequest, directive_id: int) -> HttpResponse:
    """Who was not asked in a cycle of the directive, per agency and by reason; counts only, no names."""
    directive = get_object_or_404(Directive, pk=directive_id)
    scope = exclusion_filter(request.user, directive.owner_agency_id)
    cycles = list(directive.cycles.order_by("-week_start")[:104])
    cycle = _chosen_cycle(request, directive, cycles)
    rows = exclusion_report(cycle, scope) if cycle else []
    totals = AgencyExclusions(code="", name="All agencies shown")
    for row in rows:
        for name in ["total", "asked", "paused", "exempt_by_policy", "on_leave"]:
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
        for category, n in row.by_category.items():
            totals.by_category[category] = totals.by_category.get(category, 0) + n
    context = {
        "directive": directive,
        "cycle": cycle,
        "cycles": cycles,
        "rows": rows,
        "totals": totals,
        "categories": Exemption.Category.choices,
    }
    return render(request, "directives/exclusions.html", context)


def _chosen_cycle(request: HttpRequest, directive: Directive, cycles: list[Cycle]) -> Cycle | None:
    wanted = request.GET.get("cycle", "")
    if not wanted:
        return cycles[0] if cycles else None
    if not wanted.isdigit():
        raise Http404("No such cycle.")
    chosen = next((cycle for cycle in cycles if cycle.pk == int(wanted)), None)
    return chosen or get_object_or_404(Cycle, pk=int(wanted), directive=directive)


# The public verification page


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone can check whether an email that claims to come from this system really did, by its code."""
    form = VerifyForm(request.POST if request.method == "POST" else None)
    context: dict = {"form": form, "window_minutes": VERIFY_WINDOW_SECONDS // 60}
    status = 200
    if form.is_bound and form.is_valid():
        if not _lookup_allowed(request):
            context["limited"] = True
            status = 429
        else:
            mail = find_request_mail(form.cleaned_data["code"])
            context["checked"] = True
            context["mail"] = mail
            if mail is not None:
                context["masked_address"] = mask_address(mail.to_address)
            log.info("Verification lookup: %s", "genuine" if mail else "no match")
    return render(request, "directives/verify.html", context, status=status)


def find_request_mail(code: str) -> RequestMail | None:
    """The request mail that went out with this (normalised) code, if any."""
    sent = [RequestMail.State.HANDED, RequestMail.State.SENT]
    return (
        RequestMail.objects.filter(verify_code=code, state__in=sent)
        .select_related("cycle__directive", "assignment__agency")
        .first()
    )


def mask_address(address: str) -> str:
    """j•••@va.gov: enough for the recipient to recognise, too little for anyone else to use."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or behind TRUSTED_PROXIES reverse proxies the entry the
    nearest of them added to X-Forwarded-For (entries further left are the client's own word)."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _lookup_allowed(request: HttpRequest) -> bool:
    """Count this lookup against the client's address; False once over the limit for the window."""
    # The address is hashed so the cache holds no list of who checked what.
    client = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"lastweek:verify:{client}"
    cache.add(key, 0, VERIFY_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, VERIFY_WINDOW_SECONDS)
        count = 1
    return count <= VERIFY_LOOKUPS
