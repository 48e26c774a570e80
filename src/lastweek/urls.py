"""URL routes: each app contributes its own; the admin for operators."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "lastweek administration"
admin.site.site_title = "lastweek"

urlpatterns = [
    path("", include("lastweek.access.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
