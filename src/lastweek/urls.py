"""URL routes: each app contributes its own; the admin for operators."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from lastweek.api.api import api

admin.site.site_header = "lastweek administration"
admin.site.site_title = "lastweek"

urlpatterns = [
    path("", include("lastweek.access.urls")),
    path("", include("lastweek.directives.urls")),
    # The bullet-link page moved to the employee's own pages; old bookmarks still arrive.
    path("goals/bullets/", RedirectView.as_view(url="/report/bullets/", permanent=True)),
    path("goals/", include("lastweek.goals.urls")),
    path("report/", include("lastweek.reports.urls")),
    path("dashboard/", include("lastweek.dashboard.urls")),
    path("api/", api.urls),
    # Sign-in and sign-out only: password resets by email wait for the outbound mail set-up.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
