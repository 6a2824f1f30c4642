"""Validators and masks for PRC national ID numbers and mobile numbers."""

import datetime
import re

import phonenumbers
from django.core.exceptions import ValidationError
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
