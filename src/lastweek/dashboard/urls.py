from django.urls import path

from lastweek.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("agency/<str:code>/", views.agency, name="agency"),
    path("unit/<int:unit_id>/", views.unit, name="unit"),
    path("team/", views.team, name="team"),
    path("download/", views.download, name="download"),
    path("my-year/", views.my_year, name="my-year"),
]
