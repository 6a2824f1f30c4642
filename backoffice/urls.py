"""Top-level URL configuration: the admin (the whole back office), language switching, letter verification, the API."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from backoffice.views import landing, not_found

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", landing),
    path("admin/", admin.site.urls),
    path("verify/", include("letters.urls")),
    path("api/v1/", include("backoffice.api.urls")),
]

handler404 = not_found
