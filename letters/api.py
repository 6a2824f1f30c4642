"""Letters for the lending system to read: their status and dates, and the PDF itself for callers allowed
personal data (a letter prints the customer's name and address)."""

import django_filters
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request

from backoffice.kernel.api.access import readable
from backoffice.kernel.api.auth import may_see_full_numbers
from backoffice.kernel.api.pagination import IdCursorPagination
from backoffice.kernel.api.schema import ERROR
from backoffice.kernel.api.scopes import Scope
from letters.choices import LetterStatus
from letters.models import Letter


class LetterFilter(django_filters.FilterSet):
    """Filters of the letter list."""

    status = django_filters.ChoiceFilter(choices=LetterStatus.choices)
    case = django_filters.NumberFilter(field_name="case_id", min_value=1, max_value=10**18 - 1)

    class Meta:
        model = Letter
        fields = ["status", "case"]


class LetterSerializer(serializers.ModelSerializer):
    """A letter's number, kind, status and dates; ``pdf_sha256`` is the hash its approval is bound to.

    Sent and arrived are two dates: an e-mail arrives when the mail server accepts it, registered
    post when its delivery is recorded, and the limitation period is interrupted on arrival.
    """

    class Meta:
        model = Letter
        fields = [
            "id",
            "number",
            "case",
            "kind",
            "language",
            "status",
            "requested_at",
            "approved_at",
            "pdf_sha256",
            "sent_at",
            "arrived_at",
            "dispatch_channel",
            "limitation_interrupted_on",
            "cancellation_reason",
        ]


@extend_schema(tags=["letters"], responses={200: LetterSerializer(many=True)})
class LetterList(generics.ListAPIView):
    """Letters, in id order, filtered by status or case; cursor pages."""

    queryset = Letter.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = LetterSerializer
    pagination_class = IdCursorPagination
    filterset_class = LetterFilter
    read_scope = Scope.LETTERS_READ

    def get_queryset(self) -> QuerySet:
        """The letters the caller may see."""
        return readable(self.request, Letter).order_by("id")


@extend_schema(tags=["letters"], responses={200: LetterSerializer})
class LetterDetail(generics.RetrieveAPIView):
    """One letter, by its number."""

    queryset = Letter.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = LetterSerializer
    read_scope = Scope.LETTERS_READ
    lookup_field = "number"

    def get_queryset(self) -> QuerySet:
        """The letters the caller may see."""
        return readable(self.request, Letter)


# A letter's PDF is the letter only once a legal reviewer approved it, and until it is cancelled.
PDF_STATUSES = (LetterStatus.APPROVED, LetterStatus.DISPATCH_FAILED, LetterStatus.SENT)


class LetterNotApproved(exceptions.NotFound):
    """The letter exists, but it has no PDF a legal reviewer approved (not yet, or not any more)."""

    default_code = "letter_not_approved"


@extend_schema(
    tags=["letters"],
    responses={
        200: OpenApiResponse(OpenApiTypes.BINARY, description="The PDF as approved."),
        404: OpenApiResponse(
            ERROR, description="No such letter, or it is not approved (not yet, or cancelled): no PDF to give."
        ),
    },
)
class LetterPdf(generics.RetrieveAPIView):
    """A letter's PDF, for callers who may also see personal data (``letters:read`` and ``personal-data:read``)."""

    queryset = Letter.objects.none()  # the schema's model; rows come from get_queryset
    read_scope = Scope.LETTERS_READ
    lookup_field = "number"

    def get_queryset(self) -> QuerySet:
        """The rendered letters the caller may see."""
        return readable(self.request, Letter).exclude(pdf="")

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> FileResponse:
        """Send the stored PDF."""
        if not may_see_full_numbers(request):
            raise exceptions.PermissionDenied(_("A letter's PDF prints personal data: it needs personal-data:read."))
        letter = self.get_object()
        if letter.status not in PDF_STATUSES:
            message = _("Letter %(number)s is %(status)s: only an approved or sent letter's PDF is given out.")
            raise LetterNotApproved(message % {"number": letter.number, "status": letter.get_status_display()})
        return FileResponse(letter.pdf.open("rb"), content_type="application/pdf", filename=f"{letter.number}.pdf")
