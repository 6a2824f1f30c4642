"""Forms behind the stage buttons on the case page."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import HoldReason


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
