from django.urls import path

from lastweek.access import views

app_name = "access"
urlpatterns = [
    path("", views.my_access, name="mine"),
    path("tokens/", views.my_tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_my_token, name="revoke-token"),
]
