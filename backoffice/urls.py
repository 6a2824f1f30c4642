"""Top-level URL configuration: the site's icon, the admin (the whole back office, its ledger import, reconciliation, reports and second factor), language switching, letter verification, the API, the SMS provider's callbacks."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from backoffice.kernel.signin import views as signin
from backoffice.ledger_import import views as ledger_import
from backoffice.reconciliation import views as reconciliation
from backoffice.reports import views as reports
from backoffice.views import bad_request, favicon, landing, not_found

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", landing),
    path("admin/ledger-import/", admin.site.admin_view(ledger_import.upload_view), name="ledger_import"),
    path(
        "admin/ledger-import/confirm/",
        admin.site.admin_view(ledger_import.confirm_view),
        name="ledger_import_confirm",
    ),
    path("admin/second-factor/", admin.site.admin_view(signin.second_factor_view), name="second_factor"),
    path("admin/reconciliation/", admin.site.admin_view(reconciliation.report_view), name="reconciliation"),
    path("admin/reports/", admin.site.admin_view(reports.index_view), name="reports"),
    path("admin/reports/dashboard/", admin.site.admin_view(reports.dashboard_view), name="dashboard"),
    path("admin/reports/<slug:name>/", admin.site.admin_view(reports.report_view), name="report"),
    path("admin/", admin.site.urls),
    path("verify/", include("letters.urls")),
    path("api/v1/", include("backoffice.api.urls")),
    path("outreach/", include("cases.outreach.urls")),
]

handler400 = bad_request
handler404 = not_found
