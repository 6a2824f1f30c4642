"""Public URLs of the letters app."""

from django.urls import path

from letters import views

app_name = "letters"
urlpatterns = [
    path("", views.verify, name="verify_form"),
    path("<str:number>/<str:code>/", views.verify, name="verify"),
]
