from django.urls import path

from lastweek.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.my_weeks, name="mine"),
    path("<int:cycle_id>/", views.week, name="week"),
]
