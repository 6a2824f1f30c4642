"""Enumerations of the letters app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LetterKind(models.TextChoices):
    """Who issues the letter: the creditor (reminder notice) or a law firm (lawyer letter)."""

    REMINDER_NOTICE = "reminder_notice", _("Reminder notice (催收函)")
    LAWYER_LETTER = "lawyer_letter", _("Lawyer letter (律师函)")


class LetterLanguage(models.TextChoices):
    """Languages a letter is written in."""

    CHINESE = "zh-hans", _("Simplified Chinese")
    ENGLISH = "en", _("English")


class LetterStatus(models.TextChoices):
    """Where a letter is between drafting and dispatch."""

    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    SENT = "sent", _("Sent")
    # The mail server refused the e-mail on every try, or the collection rules now forbid e-mail:
    # a person sends it again (the dispatch re-checks run first) or by registered post.
    DISPATCH_FAILED = "dispatch_failed", _("Dispatch failed")
    # Rendering failed LETTERS_RENDER_MAX_ATTEMPTS times (the error is kept): a person looks, fixes the
    # template or the data, and retries it.
    RENDER_FAILED = "render_failed", _("Rendering failed")


class DispatchChannel(models.TextChoices):
    """How a letter leaves."""

    EMAIL = "email", _("E-mail")
    POST = "post", _("Registered post")


# A letter in one of these is still on its way out: a case has at most one at a time.
IN_FLIGHT_STATUSES: tuple[str, ...] = (
    LetterStatus.DRAFT,
    LetterStatus.PENDING_APPROVAL,
    LetterStatus.APPROVED,
    LetterStatus.DISPATCH_FAILED,
    LetterStatus.RENDER_FAILED,
)
