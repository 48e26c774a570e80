from django.urls import path

from lastweek.goals import views

app_name = "goals"
urlpatterns = [
    path("", views.index, name="index"),
    path("agencies/<str:code>/", views.agency_okrs, name="agency"),
    path("agencies/<str:code>/new/", views.objective_new, name="agency-new"),
    path("units/<int:unit_id>/", views.unit_okrs, name="unit"),
    path("units/<int:unit_id>/new/", views.objective_new, name="unit-new"),
    path("objectives/<int:objective_id>/", views.objective_detail, name="objective"),
    path("objectives/<int:objective_id>/edit/", views.objective_edit, name="objective-edit"),
    path("objectives/<int:objective_id>/score/", views.score, name="score"),
    path("key-results/<int:key_result_id>/check-in/", views.check_in, name="check-in"),
]
