"""Forms of the letter review page."""

from django import forms
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
