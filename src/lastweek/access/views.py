"""'Whom can I see': the signed-in user's roles and the people within their scope."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lastweek.access.models import RoleGrant
from lastweek.access.scopes import linked_employee, visible_employees

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
