"""Validators and masks for PRC national ID numbers and mobile numbers."""

import datetime
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits and the check character for sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: provinces and equivalent divisions (GB/T 2260), plus 71/81/82 used
# on IDs issued to residents of Taiwan, Hong Kong and Macao.
_ID_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_SHAPE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def national_id_check_character(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_national_id(value: str) -> None:
    """Refuse anything but an 18-character PRC resident ID with a valid region, birth date and check digit."""
    if not _ID_SHAPE.match(value or ""):
        raise ValidationError(
            _("National ID %(value)r must be 17 digits followed by a digit or X."),
            params={"value": value},
            code="shape",
        )
    if int(value[:2]) not in _ID_PROVINCES:
        raise ValidationError(
            _("National ID %(value)r starts with an unknown region code %(region)s."),
            params={"value": value, "region": value[:2]},
            code="region",
        )
    try:
        born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
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


def validate_mobile(value: str) -> None:
    """Refuse anything but an 11-digit mainland mobile number on a prefix in use."""
    if not _MOBILE_SHAPE.match(value or ""):
        raise ValidationError(
            _("Mobile number %(value)r must be 11 digits starting with 13–19."), params={"value": value}, code="mobile"
        )
    number = phonenumbers.parse(value, "CN")
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(
            _("Mobile number %(value)r is on a prefix no mainland mobile number has."),
            params={"value": value},
            code="mobile",
        )


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
