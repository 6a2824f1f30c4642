"""Webhook subscriptions, one delivery per event and subscription, and every attempt at it."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backoffice.kernel.events import Event, EventType


class DeliveryStatus(models.TextChoices):
    """Where a delivery stands."""

    # Not a promise's "Pending" (awaiting judgement): waiting to be delivered.
    PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead")


class WebhookSubscription(models.Model):
    """A URL of the lender's that hears events, signed with a secret shown once."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("The events it hears; none ticked means every event.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive subscription hears nothing until it is active again.")
    )
    # Kept as it is: signing needs the secret itself, so it cannot be hashed; it is never shown after issue.
    secret = models.CharField(_("secret"), max_length=80, editable=False)
    secret_prefix = models.CharField(
        _("secret starts with"), max_length=12, editable=False, help_text=_("To tell secrets apart; not a secret.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("secret issued"), null=True, blank=True, editable=False)
    # It hears the events that occur from then on: set when it is made, and when it is made active again.
    hears_from = models.DateTimeField(_("hears events from"), editable=False)
    # The last place in the feed whose events were turned into deliveries for this subscription.
    fanned_out_to = models.BigIntegerField(_("feed read up to"), default=0, editable=False)

    class Meta:
        app_label = "backoffice"
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def event_type_labels(self) -> str:
        """Return the event types heard, comma-separated, for lists."""
        if not self.event_types:
            return str(_("every event"))
        return ", ".join(t for t in self.event_types if t in EventType.values)


class WebhookDelivery(models.Model):
    """One event to send to one subscription, until it is delivered or dead."""

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="+")
    # Copied from the event when the delivery is made, so that the order rule reads one table.
    position = models.BigIntegerField(_("place in the feed"))
    # The case id, or minus the credit line's id for an event of a line without a case; events of one
    # key reach a subscription in feed order. Empty: no order to keep.
    order_key = models.BigIntegerField(_("order key"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When it is next due; while a runner holds it, when that runner's hold lapses.
    next_attempt_at = models.DateTimeField(_("next attempt"))
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        app_label = "backoffice"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]  # newest first, by the primary key's index
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_delivery_due"),
            models.Index(
                fields=["subscription", "order_key", "position"],
                condition=~models.Q(status="delivered"),
                name="webhook_delivery_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.event_id}"


class WebhookAttempt(models.Model):
    """One try at a delivery: when, how long, what came back. Never the body, which may carry personal data."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    runner = models.CharField(_("run by"), max_length=100, help_text=_("A worker's task id, a thread or a command."))

    class Meta:
        app_label = "backoffice"
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
