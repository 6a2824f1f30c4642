"""The collection rules a contact must keep (compliance.md), as checks over data.

``breaches`` is pure over what it is given plus the day's earlier contacts: it returns every
rule the contact would break, each with a stable code, a plain message and, where it applies,
when the contact becomes allowed.
"""

import datetime
import logging
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import REACHED_OUTCOMES, ContactChannel, ContactDirection, ContactOutcome, ContactParty

log = logging.getLogger(__name__)

VOICE = (ContactChannel.CALL, ContactChannel.VISIT)
# Channels that reach the customer directly, and so must respect the contact window.
WINDOWED = (ContactChannel.CALL, ContactChannel.VISIT, ContactChannel.SMS, ContactChannel.PUSH, ContactChannel.EMAIL)


@dataclass(frozen=True)
class Breach:
    """One rule a contact breaks."""

    code: str
    message: str
    allowed_from: datetime.datetime | None = None

    @property
    def text(self) -> str:
        """Return the message with when the contact becomes allowed, in the customer's time."""
        if self.allowed_from is None:
            return self.message
        when = _("Allowed from %(when)s, customer's time.") % {"when": self.allowed_from.strftime("%Y-%m-%d %H:%M")}
        return f"{self.message} {when}"


@dataclass(frozen=True)
class ProposedContact:
    """A contact as the rules see it."""

    channel: str
    party: str
    outcome: str
    phone_number: str
    notes: str
    identity_disclosed: bool
    occurred_at: datetime.datetime
    direction: str = ContactDirection.OUTBOUND


def _folded(text: str) -> str:
    """Return ``text`` as the phrase check compares it: NFKC, case-folded, without spaces or invisible characters.

    So that neither ``COURT SUMMONS`` nor ``传 票`` nor a zero-width space between two characters
    slips past a listed phrase.
    """
    normal = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normal if not ch.isspace() and unicodedata.category(ch) != "Cf")


def prohibited_in(text: str, phrases: list[str]) -> list[str]:
    """Return the listed phrases that ``text`` contains, however it spells their case, spacing or width."""
    folded = _folded(text)
    return [phrase for phrase in phrases if (needle := _folded(phrase)) and needle in folded]


def known_zone(time_zone: str) -> zoneinfo.ZoneInfo | None:
    """Return the zone of an IANA name, None when the zone database does not hold it."""
    try:
        return zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def customer_zone(time_zone: str) -> zoneinfo.ZoneInfo:
    """Return the customer's time zone for counting their days: the business's own (``TIME_ZONE``) when unknown.

    Every input validates the name (``validate_time_zone``); a stored name the zone database does not
    hold (written before that check, or by hand) is logged as a warning each time it is met. The
    contact window never falls back: ``reach_breaches`` refuses a contact with ``TIME_ZONE_UNKNOWN``.
    """
    zone = known_zone(time_zone)
    if zone is None:
        log.warning("unknown customer time zone", extra={"event": "time_zone_unknown", "time_zone": time_zone})
        return timezone.get_default_timezone()
    return zone


def _unknown_zone_breach(time_zone: str) -> Breach:
    return Breach(
        "TIME_ZONE_UNKNOWN",
        _(
            "The customer's time zone %(value)r is not in the time zone database, so the contact window cannot be "
            "checked: correct the customer's time zone first."
        )
        % {"value": time_zone},
    )


def _window_breach(pack: object, local: datetime.datetime) -> Breach | None:
    if pack.window_start <= local.time() < pack.window_end:
        return None
    day = local.date() if local.time() < pack.window_start else local.date() + datetime.timedelta(days=1)
    opens = datetime.datetime.combine(day, pack.window_start, tzinfo=local.tzinfo)
    return Breach(
        "CONTACT_OUTSIDE_WINDOW",
        _("It is %(now)s for the customer; contact is allowed from %(start)s to %(end)s, their time.")
        % {
            "now": local.strftime("%H:%M"),
            "start": pack.window_start.strftime("%H:%M"),
            "end": pack.window_end.strftime("%H:%M"),
        },
        opens,
    )


# The customer's consent per medium (PIPL; an opt-out per medium is honoured), for what we start.
CONSENTS = {
    ContactChannel.CALL: ("consents_to_calls", gettext_lazy("The customer withdrew consent to calls.")),
    ContactChannel.SMS: ("consents_to_sms", gettext_lazy("The customer withdrew consent to SMS.")),
    ContactChannel.EMAIL: ("consents_to_email", gettext_lazy("The customer withdrew consent to e-mail.")),
    ContactChannel.PUSH: ("consents_to_push", gettext_lazy("The customer withdrew consent to app push.")),
}


def reach_breaches(
    *,
    pack: object,
    customer: object,
    channel: str,
    at: datetime.datetime,
    party: str = ContactParty.CUSTOMER,
    direction: str = ContactDirection.OUTBOUND,
) -> list[Breach]:
    """Return the rules any contact about the customer must keep: do-not-contact, consent, the window.

    Do-not-contact and consent per medium are the customer's own, for a contact we start (the
    customer calling us needs neither); the window, at the customer's hours, protects whoever is
    reached. Also what an e-mailed letter is checked against before it is sent.
    """
    found = []
    if customer.do_not_contact and party != ContactParty.THIRD_PARTY:
        found.append(Breach("DO_NOT_CONTACT", _("The customer asked not to be contacted.")))
    consent = CONSENTS.get(channel)
    outbound_to_customer = party == ContactParty.CUSTOMER and direction == ContactDirection.OUTBOUND
    if consent and outbound_to_customer and not getattr(customer, consent[0]):
        found.append(Breach("CONSENT_WITHDRAWN", str(consent[1])))
    if channel in WINDOWED:
        # Without the customer's zone their hour is unknown: refused, never guessed (a guess of
        # Beijing time would call a customer abroad at night).
        zone = known_zone(customer.time_zone)
        if zone is None:
            found.append(_unknown_zone_breach(customer.time_zone))
        elif window := _window_breach(pack, at.astimezone(zone)):
            found.append(window)
    return found


# What the system sends and what people start in writing: the media the message caps govern for agents.
WRITTEN = (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.PUSH)


def days_counted(
    times: list[datetime.datetime], local_days: list[datetime.date], zone: str, now: datetime.datetime
) -> tuple[int, int]:
    """Return how many of ``times`` (messages sent) and ``local_days`` (contacts) fall on the customer's day and week."""
    today = now.astimezone(customer_zone(zone)).date()
    days = [t.astimezone(customer_zone(zone)).date() for t in times] + list(local_days)
    week_start = today - datetime.timedelta(days=6)
    return sum(1 for d in days if d == today), sum(1 for d in days if week_start <= d <= today)


def cap_breaches(*, pack: object, today: int, week: int, local: datetime.datetime) -> list[Breach]:
    """Return the daily or weekly cap on messages and contacts together that one more would pass."""
    found = []
    for count, cap, days, code in (
        (today, pack.daily_message_cap, 1, "DAILY_MESSAGE_CAP"),
        (week, pack.weekly_message_cap, 7, "WEEKLY_MESSAGE_CAP"),
    ):
        if count >= cap:
            message = _(
                "The customer already got %(count)s messages and contacts in %(days)s day(s), across channels, agents, agencies and the system (the limit is %(cap)s)."
            ) % {"count": count, "days": days, "cap": cap}
            found.append(Breach(code, message, _next_day_opens(pack, local)))
    return found


def _next_day_opens(pack: object, local: datetime.datetime) -> datetime.datetime:
    return datetime.datetime.combine(local.date() + datetime.timedelta(days=1), pack.window_start, tzinfo=local.tzinfo)


def _mentions_the_debt(notes: str, balance_yuan: str, days_past_due: int) -> bool:
    text = notes.replace(",", "")
    if balance_yuan and balance_yuan.replace(",", "") in text:
        return True
    if re.search(r"(¥|￥|元|块|CNY|RMB|欠款|金额|逾期|overdue|owe)", text, re.IGNORECASE):
        return True
    return bool(re.search(rf"\b{days_past_due}\s*(天|days?)", text))


def breaches(
    *,
    contact: ProposedContact,
    pack: object,
    customer: object,
    case: object,
    earlier_today: list[object],
    recent_customer_attempts: list[str],
    prohibited: list[str],
    recent_calls: list[object] = (),
    reach_counts: tuple[int, int] = (0, 0),
) -> list[Breach]:
    """Return every rule ``contact`` breaks.

    ``earlier_today``: the customer's contacts of the same local day, all agents and agencies;
    ``recent_customer_attempts``: outcomes of the latest attempts on the customer, newest first;
    ``recent_calls``: calls about this debt, either way, in the pack's rolling period before the contact;
    ``reach_counts``: messages sent and contacts started to the customer, their local day and last 7 days.
    """
    local = contact.occurred_at.astimezone(customer_zone(customer.time_zone))
    found = reach_breaches(
        pack=pack,
        customer=customer,
        channel=contact.channel,
        at=contact.occurred_at,
        party=contact.party,
        direction=contact.direction,
    )
    reached = contact.outcome in REACHED_OUTCOMES
    if contact.channel in VOICE and reached and contact.party == ContactParty.CUSTOMER:
        connected = [
            c
            for c in earlier_today
            if c.channel in VOICE and c.outcome in REACHED_OUTCOMES and c.party == ContactParty.CUSTOMER
        ]
        if len(connected) >= pack.daily_connected_cap:
            found.append(
                Breach(
                    "DAILY_CONTACT_CAP",
                    _(
                        "The customer was already reached %(count)s times today by all agents and agencies (the limit is %(cap)s)."
                    )
                    % {"count": len(connected), "cap": pack.daily_connected_cap},
                    _next_day_opens(pack, local),
                )
            )
    if contact.channel == ContactChannel.CALL and contact.outcome == ContactOutcome.NO_ANSWER and contact.phone_number:
        attempts = [
            c for c in earlier_today if c.phone_number == contact.phone_number and c.outcome == ContactOutcome.NO_ANSWER
        ]
        if len(attempts) >= pack.daily_attempt_cap:
            found.append(
                Breach(
                    "DAILY_ATTEMPT_CAP",
                    _(
                        "Number %(number)s was already tried %(count)s times today without answer (the limit is %(cap)s)."
                    )
                    % {"number": contact.phone_number, "count": len(attempts), "cap": pack.daily_attempt_cap},
                    _next_day_opens(pack, local),
                )
            )
    outbound_to_customer = contact.party == ContactParty.CUSTOMER and contact.direction == ContactDirection.OUTBOUND
    if contact.channel in WRITTEN and outbound_to_customer:
        found.extend(cap_breaches(pack=pack, today=reach_counts[0], week=reach_counts[1], local=local))
    if contact.party == ContactParty.THIRD_PARTY:
        found.extend(_third_party_breaches(contact, pack, case, recent_customer_attempts))
    if contact.channel == ContactChannel.CALL and contact.direction == ContactDirection.OUTBOUND:
        found.extend(_rolling_breaches(contact, pack, recent_calls, local.tzinfo))
    if contact.channel in VOICE and reached and not contact.identity_disclosed:
        found.append(
            Breach(
                "IDENTITY_NOT_DISCLOSED",
                _("Say which institution you act for at the start of the contact, and tick it."),
            )
        )
    for phrase in prohibited_in(contact.notes, prohibited):
        found.append(
            Breach(
                "PROHIBITED_CONTENT", _("The message contains the prohibited phrase %(phrase)r.") % {"phrase": phrase}
            )
        )
    return found


def _rolling_breaches(
    contact: ProposedContact, pack: object, recent_calls: list[object], zone: datetime.tzinfo
) -> list[Breach]:
    """Regulation F's presumption of harassment: too many calls in the rolling period, or a call soon after a talk."""
    found = []
    calls = sorted(
        c.occurred_at
        for c in recent_calls
        if c.direction == ContactDirection.OUTBOUND and c.occurred_at < contact.occurred_at
    )
    period = datetime.timedelta(days=pack.rolling_days)
    in_period = [at for at in calls if at > contact.occurred_at - period]
    if pack.rolling_call_cap is not None and len(in_period) >= pack.rolling_call_cap:
        # Allowed again once enough of the earlier calls have left the period.
        frees_at = in_period[len(in_period) - pack.rolling_call_cap] + period
        found.append(
            Breach(
                "ROLLING_CALL_CAP",
                _("This debt was already called about %(count)s times in %(days)s days (the limit is %(cap)s).")
                % {"count": len(in_period), "days": pack.rolling_days, "cap": pack.rolling_call_cap},
                frees_at.astimezone(zone),
            )
        )
    quiet = pack.quiet_days_after_conversation
    talks = [
        c.occurred_at
        for c in recent_calls
        if c.outcome in REACHED_OUTCOMES and c.party == ContactParty.CUSTOMER and c.occurred_at < contact.occurred_at
    ]
    if quiet is not None and talks and max(talks) > contact.occurred_at - datetime.timedelta(days=quiet):
        found.append(
            Breach(
                "CALL_AFTER_CONVERSATION",
                _("The customer was spoken to about this debt less than %(days)s days ago.") % {"days": quiet},
                (max(talks) + datetime.timedelta(days=quiet)).astimezone(zone),
            )
        )
    return found


def _third_party_breaches(contact: ProposedContact, pack: object, case: object, recent: list[str]) -> list[Breach]:
    found = []
    failures = recent[: pack.third_party_after_failures]
    unreachable = len(failures) >= pack.third_party_after_failures and not any(o in REACHED_OUTCOMES for o in failures)
    if not unreachable:
        found.append(
            Breach(
                "THIRD_PARTY_DISCLOSURE",
                _("A third party may be contacted only after %(n)s failed attempts in a row to reach the customer.")
                % {"n": pack.third_party_after_failures},
            )
        )
    if _mentions_the_debt(contact.notes, case.balance_display.lstrip("¥"), case.days_past_due):
        found.append(
            Breach(
                "THIRD_PARTY_DISCLOSURE",
                _(
                    "A third party is never told the amount or the days overdue; ask only for contact details or to pass on a message."
                ),
            )
        )
    return found
