"""The lending system's API, under ``/api/v1/``, with its OpenAPI schema and Swagger UI (served locally)."""

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as ledger
from backoffice.api.bills import BillList
from backoffice.api.events import EventFeed
from backoffice.api.payments import PaymentPost
from backoffice.api.reconciliation import ReconciliationView
from backoffice.api.reversals import ReversalPost
from cases import api as cases
from cases.contacts.api import ContactsPost
from letters import api as letters


class RowId:
    """A row id in a URL: at most 18 digits, so that no id overflows a 64-bit column (a longer one is a 404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        """The id as a number."""
        return int(value)

    def to_url(self, value: int) -> str:
        """The id as digits."""
        return str(value)


register_converter(RowId, "id")

app_name = "api"

urlpatterns = [
    path("customers/", ledger.CustomerList.as_view(), name="customers"),
    path("customers/<id:pk>/", ledger.CustomerDetail.as_view(), name="customer"),
    path("credit-lines/", ledger.CreditLineList.as_view(), name="credit-lines"),
    path("credit-lines/<str:number>/", ledger.CreditLineDetail.as_view(), name="credit-line"),
    path("credit-lines/<str:number>/bills/", BillList.as_view(), name="bills"),
    path("payments/", PaymentPost.as_view(), name="payments"),
    path("payments/reversals/", ReversalPost.as_view(), name="payment-reversals"),
    path("cases/", cases.CaseList.as_view(), name="cases"),
    path("cases/<id:pk>/", cases.CaseDetail.as_view(), name="case"),
    path("contacts/", ContactsPost.as_view(), name="contacts"),
    path("letters/", letters.LetterList.as_view(), name="letters"),
    path("letters/<str:number>/", letters.LetterDetail.as_view(), name="letter"),
    path("letters/<str:number>/pdf/", letters.LetterPdf.as_view(), name="letter-pdf"),
    path("events/", EventFeed.as_view(), name="events"),
    path("reconciliation/", ReconciliationView.as_view(), name="reconciliation"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
