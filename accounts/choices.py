"""Enumerations of the ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """Languages a customer can be written to in."""

    CHINESE = "zh-hans", _("Simplified Chinese")
    ENGLISH = "en", _("English")


class Currency(models.TextChoices):
    """Currencies a product can lend in."""

    CNY = "CNY", _("Chinese yuan")


class CreditLineStatus(models.TextChoices):
    """Whether a credit line may still be drawn on."""

    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", _("Closed")
    # Settled or written off by collections: the rest of the debt is not collected again.
    CHARGED_OFF = "charged_off", _("Charged off (settled or written off)")


class PaymentChannel(models.TextChoices):
    """Where a payment came from."""

    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    DEBIT_CARD = "debit_card", _("Debit card")
    AUTO_DEBIT = "auto_debit", _("Auto-debit")


class ReversalReason(models.TextChoices):
    """Why a payment was taken back."""

    BOUNCED = "bounced", _("Bounced")
    CHARGED_BACK = "charged_back", _("Charged back")
    OTHER = "other", _("Other")
