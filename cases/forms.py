"""Forms behind the stage buttons on the case page."""

import datetime
from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.roles import AGENT, SUPERVISOR
from cases.choices import (
    AgencyStatus,
    ContactChannel,
    ContactDirection,
    ContactOutcome,
    ContactParty,
    HoldReason,
    ProposalKind,
)
from cases.models import Agency


class TransitionForm(forms.Form):
    """A stage change needs a reason, written down."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class HoldForm(forms.Form):
    """Putting a case on hold needs why, a note and when the hold ends."""

    reason_code = forms.ChoiceField(label=_("Why"), choices=HoldReason.choices)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    until = forms.DateField(
        label=_("Hold until (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=lambda: timezone.localdate() + datetime.timedelta(days=7),
    )


class ContactForm(forms.Form):
    """Log a contact; the collection rules are checked before it is stored."""

    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=ContactDirection.choices)
    party = forms.ChoiceField(label=_("Party"), choices=ContactParty.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    phone_number = forms.CharField(label=_("Number called"), required=False, max_length=20)
    identity_disclosed = forms.BooleanField(label=_("I said which institution I act for"), required=False)
    notes = forms.CharField(
        label=_("Notes / message"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    recording_reference = forms.CharField(label=_("Recording reference"), required=False, max_length=100)
    follow_up_on = forms.DateField(
        label=_("Follow up on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RevealForm(forms.Form):
    """Why the agent needs the full number; the reason is kept with who saw it."""

    reason = forms.CharField(
        label=_("Why do you need the full number?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )


class AssignForm(forms.Form):
    """Whom to give the selected cases to (empty: nobody)."""

    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_active=True, groups__name__in=[AGENT, SUPERVISOR])
        .distinct()
        .order_by("username"),
        required=False,
        empty_label=_("— nobody —"),
    )


class PromiseForm(forms.Form):
    """An amount and the date the customer promised to pay it by."""

    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    due_date = forms.DateField(label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))


class PlaceForm(forms.Form):
    """Which agency to place the selected cases with; only approved agencies are offered."""

    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.filter(status=AgencyStatus.APPROVED).order_by("name")
    )


class ProposalForm(forms.Form):
    """A settlement (with the agreed amount) or a write-off, and why."""

    kind = forms.ChoiceField(label=_("Proposal"), choices=ProposalKind.choices)
    amount = forms.DecimalField(
        label=_("Agreed amount (yuan, settlements only)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecisionForm(forms.Form):
    """A supervisor's note on a decision; required to reject."""

    note = forms.CharField(
        label=_("Note (required to reject)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
