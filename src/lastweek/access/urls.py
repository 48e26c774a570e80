from django.urls import path

from lastweek.access import views

app_name = "access"
urlpatterns = [path("", views.my_access, name="mine")]
