"""Validators and masks for PRC national ID numbers and phone numbers, and the ledger's dates and numbers."""

import datetime
import re
import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as NumberError

_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
# The residence permits of Hong Kong, Macao and Taiwan residents carry these codes, which the region
# data does not hold as counties (830000 not at all).
_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})
_MOBILE_SHAPE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
# A number an agent or a dialler calls: a mobile or a fixed line (no 400/800 service number).
_DIALLED_TYPES = _MOBILE_TYPES | {phonenumbers.PhoneNumberType.FIXED_LINE}


def national_id_check_character(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 digits, got {len(first17)}")
    return ric.calc_check_digit(first17 + "0")  # it reads the first 17 and ignores the check position


def validate_national_id(value: str) -> None:
    """Refuse anything but an 18-character PRC resident ID with a valid region, birth date and check digit.

    Residence permits of Hong Kong, Macao and Taiwan residents are IDs of the same form.
    """
    if not _ID_SHAPE.match(value or ""):
        raise ValidationError(
            _("National ID %(value)r must be 17 digits followed by a digit or X."),
            params={"value": value},
            code="shape",
        )
    if not _region_known(value[:6]):
        raise ValidationError(
            _("National ID %(value)r starts with an unknown region code %(region)s."),
            params={"value": value, "region": value[:6]},
            code="region",
        )
    try:
        born = ric.get_birth_date(value)
    except NumberError:
        born = None
    if born is None or born.year < 1900 or born > datetime.date.today():
        raise ValidationError(
            _("National ID %(value)r holds an impossible birth date %(date)s."),
            params={"value": value, "date": value[6:14]},
            code="birth_date",
        )
    if national_id_check_character(value[:17]) != value[17]:
        raise ValidationError(
            _("National ID %(value)r has a wrong check digit."), params={"value": value}, code="check_digit"
        )


def _region_known(code: str) -> bool:
    """Tell whether GB/T 2260 (as python-stdnum ships it) ever had a county of this code, or it is a permit's.

    Any year counts, not only the year of birth: an ID keeps the code of the county that issued it,
    which can be younger than its holder (every Chongqing code dates from 1997).
    """
    if code in _PERMIT_REGIONS:
        return True
    return any("county" in properties for _part, properties in numdb.get("cn/loc").info(code))


def validate_mobile(value: str) -> None:
    """Refuse anything but an 11-digit mainland mobile number on a prefix in use."""
    if not _MOBILE_SHAPE.match(value or ""):
        raise ValidationError(
            _("Mobile number %(value)r must be 11 digits starting with 13–19."), params={"value": value}, code="mobile"
        )
    if _mainland_number(value, _MOBILE_TYPES) is None:
        raise ValidationError(
            _("Mobile number %(value)r is on a prefix no mainland mobile number has."),
            params={"value": value},
            code="mobile",
        )


def _mainland_number(value: str, types: frozenset[int]) -> phonenumbers.PhoneNumber | None:
    """Return ``value`` parsed when libphonenumber holds it for a valid mainland number of one of ``types``."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(number, "CN") or phonenumbers.number_type(number) not in types:
        return None
    return number


def mainland_phone_number(value: str) -> str:
    """Return a mainland mobile or fixed-line number in the one form it is stored in: the digits dialled within
    the mainland, ``13800138000`` or ``01062345678`` (a customer's mobile is stored the same way).

    Written with or without +86 (or 0086, 86), spaces, hyphens or brackets, it is the same number
    and is stored the same: the contact rules compare stored numbers as they are. Raise
    ``ValidationError`` naming the value for anything else, and for a number with an extension.
    """
    number = _mainland_number(value, _DIALLED_TYPES)
    if number is None:
        raise ValidationError(
            _(
                "Phone number %(value)r is not a mainland China mobile or fixed-line number, "
                "such as 13800138000 or 010-62345678 (+86 may be written or not)."
            ),
            params={"value": value},
            code="phone_number",
        )
    if number.extension:
        raise ValidationError(
            _("Phone number %(value)r has an extension; give the number dialled without it."),
            params={"value": value},
            code="phone_number",
        )
    return phonenumbers.format_number_for_mobile_dialing(number, "CN", with_formatting=False)


def mask_national_id(value: str) -> str:
    """Show the region and the last four characters only: ``110101********1234``."""
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_mobile(value: str) -> str:
    """Show the carrier prefix and the last four digits only: ``138****1234``."""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


# No line on the books opened before this date: the oldest contracts the lender migrated date
# from 2000, and an earlier date is a typing or default-value error (0001-01-01).
LEDGER_DATE_FLOOR = datetime.date(2000, 1, 1)
# A bill falls due within the longest consumer-credit term, counted from the day its line opened.
BILL_DUE_HORIZON_YEARS = 30
# Clocks of the lender's systems run this far ahead of ours at most.
PAYMENT_CLOCK_SKEW = datetime.timedelta(minutes=5)
# Contract numbers become URL segments and file cells: ASCII letters, digits, dot, underscore, hyphen.
_LINE_NUMBER_SHAPE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def validate_line_number(value: str) -> None:
    """Refuse a contract number that is not 1 to 32 ASCII letters, digits, dots, underscores or hyphens."""
    if not _LINE_NUMBER_SHAPE.match(value or "") or value in (".", ".."):
        raise ValidationError(
            _("Contract number %(value)r must be 1 to 32 ASCII letters, digits, dots, underscores or hyphens."),
            params={"value": value},
            code="line_number",
        )


def validate_opened_on(value: datetime.date, *, today: datetime.date) -> None:
    """Refuse a line opened in the future or before the ledger's floor."""
    if value > today:
        raise ValidationError(
            _("Opening date %(value)s is in the future."), params={"value": value.isoformat()}, code="future"
        )
    if value < LEDGER_DATE_FLOOR:
        raise ValidationError(
            _("Opening date %(value)s is before %(floor)s, the earliest date the ledger takes."),
            params={"value": value.isoformat(), "floor": LEDGER_DATE_FLOOR.isoformat()},
            code="too_early",
        )


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validate_due_date(value: datetime.date, *, opened_on: datetime.date) -> None:
    """Refuse a bill due before its line opened, or further out than any credit term."""
    if value < opened_on:
        raise ValidationError(
            _("Due date %(value)s is before the line opened on %(opened)s."),
            params={"value": value.isoformat(), "opened": opened_on.isoformat()},
            code="before_opening",
        )
    latest = _years_after(opened_on, BILL_DUE_HORIZON_YEARS)
    if value > latest:
        raise ValidationError(
            _("Due date %(value)s is more than %(years)d years after the line opened (latest %(latest)s)."),
            params={"value": value.isoformat(), "years": BILL_DUE_HORIZON_YEARS, "latest": latest.isoformat()},
            code="too_late",
        )


def validate_received_at(
    value: datetime.datetime, *, opened_on: datetime.date, now: datetime.datetime, zone: datetime.tzinfo | None = None
) -> None:
    """Refuse a payment time later than now (give or take clock skew), or before its line opened (local date).

    ``zone`` is the business time zone (by default the current one), given by callers that check many rows.
    """
    if value > now + PAYMENT_CLOCK_SKEW:
        raise ValidationError(
            _("Received time %(value)s is in the future."), params={"value": value.isoformat()}, code="future"
        )
    if value.astimezone(zone or timezone.get_current_timezone()).date() < opened_on:
        raise ValidationError(
            _("Received time %(value)s is before the line opened on %(opened)s."),
            params={"value": value.isoformat(), "opened": opened_on.isoformat()},
            code="before_opening",
        )


def validate_time_zone(value: str) -> None:
    """Refuse a time zone name the IANA database does not hold."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("Time zone %(value)r is not an IANA time zone name, such as Asia/Shanghai."),
            params={"value": value},
            code="time_zone",
        )
