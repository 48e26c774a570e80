"""'Whom can I see': the signed-in user's roles and the people within their scope; and one's own
personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lastweek.access.forms import TokenForm
from lastweek.access.models import ApiToken, RoleGrant
from lastweek.access.scopes import linked_employee, visible_employees
from lastweek.access.tokens import TokenError, create_token, revoke_token

PAGE_SIZE = 50


@login_required
def my_access(request: HttpRequest) -> HttpResponse:
    """Who you are on the roster, the roles you hold, and everyone you may see (exact search within)."""
    # Ordered by the indexed employee number: a page of an organization-wide scope is then an index
    # range read, not a sort of millions of names.
    people = visible_employees(request.user).select_related("unit", "agency").order_by("employee_number")
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(email=query.lower()) if "@" in query else people.filter(employee_number=query)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    grants = RoleGrant.objects.in_force().filter(user=request.user).select_related("agency", "unit")
    context = {"me": linked_employee(request.user), "grants": grants, "page": page, "query": query}
    return render(request, "access/my_access.html", context)


@never_cache  # the page that shows a new token once must never be kept by a cache
@login_required
@require_http_methods(["GET", "POST"])
def my_tokens(request: HttpRequest) -> HttpResponse:
    """One's own API tokens: create one (shown once, here) and see when each was last used."""
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, value = create_token(
                request.user, form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except TokenError as exc:
            form.add_error(None, str(exc))
        else:
            created = {"token": token, "value": value}
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "access/tokens.html", {"form": form, "tokens": tokens, "created": created})


@login_required
@require_POST
def revoke_my_token(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of one's own tokens; someone else's is not found."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if revoke_token(token, request.user):
        messages.success(request, f"Revoked the token “{token.name}” ({token.prefix}…).")
    else:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    return redirect("access:tokens")
