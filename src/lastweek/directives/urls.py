from django.urls import path

from lastweek.directives import views

app_name = "directives"
urlpatterns = [
    path("policy/", views.policy_agencies, name="policy-agencies"),
    path("policy/<str:code>/", views.agency_policy, name="agency-policy"),
    path("directives/<int:directive_id>/exclusions/", views.exclusions, name="exclusions"),
    path("verify/", views.verify, name="verify"),
]
