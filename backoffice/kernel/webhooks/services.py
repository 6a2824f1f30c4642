"""What a superuser does with webhooks: subscribe a URL, change it, rotate its secret, redeliver events."""

from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.kernel.events import EventType, events_committed
from backoffice.kernel.webhooks.delivery import feed_end
from backoffice.kernel.webhooks.destinations import DestinationRefused, destination_addresses, destination_port
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from backoffice.kernel.webhooks.signing import secret_new

URL_MAX_LENGTH = 500


def _refuse_unless_superuser(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser manages webhooks."))


def webhook_url_check(url: str) -> str:
    """Return the URL if events may be sent to it; refuse, naming it, anything else."""
    url = (url or "").strip()
    refuse = _("%(value)r is not a webhook URL: ") % {"value": url}
    if not url or len(url) > URL_MAX_LENGTH:
        raise ValidationError({"url": refuse + _("give an http or https URL of at most 500 characters.")})
    schemes = ["https"] if settings.WEBHOOK_HTTPS_ONLY else ["http", "https"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        allowed = "https://" if settings.WEBHOOK_HTTPS_ONLY else _("http:// or https://")
        raise ValidationError(
            {"url": refuse + _("give a full URL starting with %(schemes)s.") % {"schemes": allowed}}
        ) from None
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError(
            {"url": refuse + _("credentials in the URL are refused; the signature proves the sender.")}
        )
    if parts.fragment:
        raise ValidationError({"url": refuse + _("a fragment (#…) is never sent to a server.")})
    _destination_check(parts, refuse)
    return url


def _destination_check(parts: SplitResult, refuse: str) -> None:
    try:
        port = destination_port(parts)
    except ValueError:
        port = 0
    if not port:
        raise ValidationError({"url": refuse + _("give a port from 1 to 65535, or none for the scheme's own.")})
    try:
        destination_addresses(parts.hostname, port)
    except DestinationRefused as exc:
        reason = _("%(reason)s; events go only to public addresses, or to a network in WEBHOOK_ALLOWED_NETWORKS.")
        raise ValidationError({"url": refuse + reason % {"reason": exc}}) from None
    except UnicodeError:
        raise ValidationError(
            {"url": refuse + _("its host name cannot be written for DNS (a part too long?).")}
        ) from None
    except OSError:
        # A name that does not resolve yet (its DNS may be published later) is accepted: every delivery
        # resolves it again and is refused then if it leads somewhere forbidden.
        pass


def webhook_event_types_check(event_types: list[str]) -> list[str]:
    """Return the event types, sorted and once each; refuse an unknown one, naming it."""
    unknown = [kind for kind in event_types if kind not in EventType.values]
    if unknown:
        raise ValidationError({"event_types": _("Unknown event type %(value)r.") % {"value": unknown[0]}})
    return sorted(set(event_types))


def _checked_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A subscription needs a name.")})
    if WebhookSubscription.objects.filter(name=name).exclude(pk=exclude).exists():
        raise ValidationError({"name": _("A webhook subscription named %(value)r exists already.") % {"value": name}})
    return name


def _issue(subscription: WebhookSubscription) -> str:
    secret = secret_new()
    subscription.secret, subscription.secret_prefix, subscription.rotated_at = secret, secret[:12], timezone.now()
    return secret


def webhook_subscription_create(
    *, name: str, url: str, event_types: list[str], is_active: bool = True, actor: AbstractBaseUser | None
) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to the events that happen from now on; return it and its secret, which is never shown again."""
    _refuse_unless_superuser(actor)
    name, url, event_types = _checked_name(name), webhook_url_check(url), webhook_event_types_check(event_types)
    # Only what occurs from now on: older events, published or not, stay in the feed alone. Nothing is
    # published here, so subscribing after a night of a million unpublished events costs this request nothing.
    subscription = WebhookSubscription(
        name=name,
        url=url,
        event_types=event_types,
        is_active=is_active,
        hears_from=timezone.now(),
        fanned_out_to=feed_end(),
    )
    secret = _issue(subscription)
    subscription.save()
    return subscription, secret


def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    name: str,
    url: str,
    event_types: list[str],
    is_active: bool,
    actor: AbstractBaseUser | None,
) -> WebhookSubscription:
    """Change a subscription; one made active again hears the events from now on, not those it missed."""
    _refuse_unless_superuser(actor)
    subscription.name = _checked_name(name, exclude=subscription.pk)
    subscription.url, subscription.event_types = webhook_url_check(url), webhook_event_types_check(event_types)
    fields = ["name", "url", "event_types", "is_active"]
    reactivated = is_active and not WebhookSubscription.objects.get(pk=subscription.pk).is_active
    if reactivated:
        subscription.hears_from, subscription.fanned_out_to = timezone.now(), feed_end()
        fields += ["hears_from", "fanned_out_to"]
    subscription.is_active = is_active
    subscription.save(update_fields=fields)
    if reactivated:
        transaction.on_commit(events_committed)
    return subscription


def webhook_subscription_rotate(*, subscription: WebhookSubscription, actor: AbstractBaseUser | None) -> str:
    """Issue a new secret; every delivery from now on is signed with it. Return it."""
    _refuse_unless_superuser(actor)
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        secret = _issue(locked)
        locked.save(update_fields=["secret", "secret_prefix", "rotated_at"])
    subscription.secret_prefix, subscription.rotated_at = locked.secret_prefix, locked.rotated_at
    return secret


def webhook_deliveries_redeliver(*, deliveries: QuerySet, actor: AbstractBaseUser | None) -> int:
    """Send delivered or dead deliveries again, with a fresh retry schedule, in their case's order; return how many."""
    _refuse_unless_superuser(actor)
    again = WebhookDelivery.objects.filter(
        pk__in=deliveries.values("pk"), status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.DEAD]
    )
    count = again.update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), first_attempt_at=None, delivered_at=None
    )
    if count:
        transaction.on_commit(events_committed)
    return count
