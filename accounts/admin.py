"""Ledger screens. The ledger is fed by the lending system, so these are mostly for reading;
ID and mobile numbers are masked for every viewer (a reveal on the case page, or a search by the
whole number, shows one, and leaves an audit row), and each viewer sees only the rows behind the cases they may see (personal data is shown only for
collecting that debt)."""

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Bill, CreditLine, Customer, Payment, PaymentAllocation, PersonalDataReveal, Product
from accounts.services import customers_found_by_number
from accounts.validators import mask_mobile, mask_national_id
from backoffice.kernel.admin import (
    DeclaredFiltersOnly,
    MaskedPersonalData,
    ReadOnlyAdmin,
    RecordInline,
    money_column,
)
from backoffice.kernel.money import format_yuan
from backoffice.kernel.pagination import LargeTablePaginator

# The one import of collections the ledger makes (named in the layering contract): the ledger's
# screens show each viewer only the rows behind the cases they may see.
from cases.casework.scoping import CaseScoped


class LedgerScoped(CaseScoped):
    """For a ledger admin: only the rows behind cases the viewer may see, by default through their line.

    A collection agent sees the customers, lines, bills and payments of their own cases;
    supervisors and legal reviewers see them all.
    """

    scope_via = "credit_line"
    scope_through = "credit_line"
    list_per_page = 50  # as the case list: a page of a million-row ledger renders in a few tens of ms


@admin.register(Customer)
class CustomerAdmin(MaskedPersonalData, LedgerScoped, SimpleHistoryAdmin):
    """Customers, with ID and mobile masked for every viewer."""

    scope_via, scope_through = "pk", "customer"

    list_display = ["name", "mobile", "national_id", "preferred_language", "do_not_contact", "vulnerable"]
    list_filter = ["preferred_language", "do_not_contact", "vulnerable"]
    search_fields = ["name", "=mobile", "national_id__endswith"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice
    paginator = LargeTablePaginator
    masked_fields = {
        "national_id": ("national_id", _("national ID number"), mask_national_id),
        "mobile": ("mobile", _("mobile"), mask_mobile),
    }
    masked_search = {"national_id": customers_found_by_number, "mobile": customers_found_by_number}

    def has_view_history_or_change_history_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        """Past versions and their changes show full numbers, unmasked and unrecorded: to nobody."""
        return False

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        """A customer's history, only of a customer in the viewer's scope (the history pages do not ask)."""
        self._in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        """One past version, only of a customer in the viewer's scope."""
        self._in_scope_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _in_scope_or_404(self, request: HttpRequest, object_id: str) -> None:
        if self.get_object(request, object_id) is None:  # through get_queryset; a malformed id is None too
            raise Http404(_("No customer %(id)s that you may see.") % {"id": object_id})


@admin.register(Product)
class ProductAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Credit products and their dunning policy."""

    list_display = ["code", "name", "currency", "policy"]
    list_filter = ["policy"]
    search_fields = ["code", "name"]


class BillInline(RecordInline):
    """A credit line's bills, read-only."""

    model = Bill
    ordering = ["due_date"]
    fields = ["due_date", "due", "paid", "outstanding", "last_paid_on"]

    @admin.display(description=_("due"))
    def due(self, obj: Bill) -> str:
        """Show what is due on the bill."""
        return format_yuan(obj.total_due_fen)

    @admin.display(description=_("paid"))
    def paid(self, obj: Bill) -> str:
        """Show what has been paid on the bill."""
        return format_yuan(obj.total_paid_fen)

    @admin.display(description=_("outstanding"))
    def outstanding(self, obj: Bill) -> str:
        """Show what is left to pay on the bill."""
        return format_yuan(obj.outstanding_fen)


@admin.register(CreditLine)
class CreditLineAdmin(MaskedPersonalData, LedgerScoped, ReadOnlyAdmin):
    """Credit lines with their bills, found by the customer's mobile as the viewer may search it."""

    scope_via = "pk"

    list_display = ["number", "customer", "product", "limit", "status", "opened_on"]
    list_filter = ["status", "product", "product__policy"]
    search_fields = ["number", "customer__name", "=customer__mobile"]
    masked_search = {"customer__mobile": customers_found_by_number}
    list_select_related = ["customer", "product"]
    inlines = [BillInline]
    limit = money_column("limit_fen", _("limit"))


@admin.register(Bill)
class BillAdmin(LedgerScoped, ReadOnlyAdmin):
    """All bills."""

    list_display = ["credit_line", "due_date", "principal", "interest", "fees", "paid", "last_paid_on"]
    list_filter = ["due_date", "credit_line__product"]
    search_fields = ["credit_line__number"]
    list_select_related = ["credit_line"]
    date_hierarchy = "due_date"
    principal = money_column("principal_due_fen", _("principal"))
    interest = money_column("interest_due_fen", _("interest"))
    fees = money_column("fees_due_fen", _("fees"))

    @admin.display(description=_("paid"))
    def paid(self, obj: Bill) -> str:
        """Show what has been paid on the bill."""
        return format_yuan(obj.total_paid_fen)


class AllocationInline(RecordInline):
    """How a payment was split over bills."""

    model = PaymentAllocation
    fields = ["bill", "fees_fen", "interest_fen", "principal_fen"]


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(LedgerScoped, ReadOnlyAdmin):
    """How every payment was split over bills, for reconciliation."""

    scope_via = "bill__credit_line"

    list_display = ["payment", "bill", "fees", "interest", "principal", "received_on"]
    list_filter = ["received_on"]
    search_fields = ["=payment__external_reference", "bill__credit_line__number"]
    list_select_related = ["payment", "bill"]
    fees = money_column("fees_fen", _("fees"))
    interest = money_column("interest_fen", _("interest"))
    principal = money_column("principal_fen", _("principal"))


@admin.register(Payment)
class PaymentAdmin(LedgerScoped, ReadOnlyAdmin):
    """Payments received, with their allocation."""

    list_display = ["external_reference", "credit_line", "amount", "credit", "channel", "received_at", "reversal_of"]
    list_filter = ["channel", "received_on"]
    search_fields = ["=external_reference", "credit_line__number"]
    list_select_related = ["credit_line", "reversal_of"]
    date_hierarchy = "received_on"
    inlines = [AllocationInline]
    amount = money_column("amount_fen", _("amount"))
    credit = money_column("unallocated_fen", _("credit left"))


@admin.register(PersonalDataReveal)
class PersonalDataRevealAdmin(LedgerScoped, ReadOnlyAdmin):
    """Every reveal of a full ID or mobile number: who, when, why."""

    scope_via = scope_through = "customer"

    list_display = ["revealed_at", "revealed_by", "customer", "field", "reason"]
    list_filter = ["field", "revealed_at", "revealed_by"]
    search_fields = ["reason", "customer__name"]
    list_select_related = ["revealed_by", "customer"]
