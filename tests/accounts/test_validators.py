import pytest
from django.core.exceptions import ValidationError

from accounts.validators import mask_mobile, mask_national_id, validate_mobile, validate_national_id

# A published sample number (GB 11643 example) with a correct check digit.
VALID_ID = "11010519491231002X"
# Prefixes of the mainland numbering plan that no mobile number has.
UNUSED_MOBILE_PREFIXES = [140, 141, 142, 143, 144, 146, 148, 149, 154, 160, 161, 163, 164, 168, 169, 174, 179, 194]


def test_a_valid_national_id_passes():
    validate_national_id(VALID_ID)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "check_digit"),
        ("99010519491231002X", "region"),
        ("110105194913310023", "birth_date"),
        ("11010519491231002", "shape"),
        ("1101051949123100x2", "shape"),
    ],
)
def test_a_wrong_national_id_is_refused_with_its_value(value, code):
    with pytest.raises(ValidationError) as caught:
        validate_national_id(value)
    assert caught.value.code == code
    assert value in caught.value.messages[0]


def test_a_mainland_mobile_passes_and_a_landline_does_not():
    validate_mobile("13812345678")
    with pytest.raises(ValidationError, match="01088886666"):
        validate_mobile("01088886666")


@pytest.mark.parametrize("prefix", UNUSED_MOBILE_PREFIXES)
def test_a_mobile_number_on_a_prefix_no_mainland_mobile_has_is_refused(prefix):
    value = f"{prefix}12345678"
    with pytest.raises(ValidationError) as caught:
        validate_mobile(value)
    assert caught.value.code == "mobile"
    assert value in caught.value.messages[0]


@pytest.mark.parametrize("prefix", [p for p in range(130, 200) if p not in UNUSED_MOBILE_PREFIXES])
def test_a_mobile_number_on_a_prefix_in_use_passes(prefix):
    validate_mobile(f"{prefix}12345678")


@pytest.mark.parametrize("value", ["+8613812345678", "8613812345678", "138 1234 5678", "013812345678", "1381234567"])
def test_a_mobile_number_is_taken_as_its_eleven_digits_only(value):
    with pytest.raises(ValidationError, match="11 digits"):
        validate_mobile(value)


def test_masks_keep_only_what_agents_may_see():
    assert mask_national_id(VALID_ID) == "110105********002X"
    assert mask_mobile("13812345678") == "138****5678"
