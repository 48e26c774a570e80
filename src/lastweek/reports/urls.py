from django.urls import path

from lastweek.reports import key_result_links, views

app_name = "reports"
urlpatterns = [
    path("", views.my_weeks, name="mine"),
    path("<int:cycle_id>/", views.week, name="week"),
    path("bullets/", key_result_links.my_bullets, name="bullets"),
]
