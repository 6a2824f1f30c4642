"""Forms of the letter review page."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from letters.choices import DispatchChannel
from letters.models import LetterTemplate


class ApproveForm(forms.Form):
    """Approval is bound to the hash of the PDF on the reviewer's screen."""

    seen_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class RejectForm(forms.Form):
    """A rejection needs a reason."""

    reason = forms.CharField(label=_("Reason for rejection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DispatchForm(forms.Form):
    """How an approved letter leaves."""

    channel = forms.ChoiceField(label=_("Channel"), choices=DispatchChannel.choices)
    address = forms.CharField(
        label=_("E-mail address"),
        required=False,
        max_length=300,
        help_text=_("For e-mail. Registered post goes to the customer's postal address."),
    )
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=64)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=64)


class RecordDeliveryForm(forms.Form):
    """When registered post was delivered, as its tracking shows."""

    arrived_at = forms.DateTimeField(
        label=_("Delivered at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )


class RequestLetterForm(forms.Form):
    """Which letter to draft for a case."""

    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=LetterTemplate.objects.filter(is_active=True).order_by("kind", "language"),
        help_text=_("The letter is written in the customer's preferred language when the template has it."),
    )


class VerificationForm(forms.Form):
    """A letter number and its code as a visitor types them, or as the QR code's address carries them.

    Only what a letter could carry is looked up: anything else (a slash, a blank, non-ASCII text, a
    NUL, a long text) is answered as a wrong number is, without a query.
    """

    number = forms.CharField(max_length=20, validators=[RegexValidator(r"\A[A-Za-z0-9-]+\Z")])
    code = forms.CharField(max_length=16, validators=[RegexValidator(r"\A[A-Za-z0-9]+\Z")])

    def clean_number(self) -> str:
        """Letter numbers are upper case."""
        return self.cleaned_data["number"].upper()

    def clean_code(self) -> str:
        """Codes are printed in upper case; a visitor may type them in lower."""
        return self.cleaned_data["code"].upper()
