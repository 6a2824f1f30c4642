import pytest
from django.core.exceptions import ValidationError

from accounts.validators import mask_mobile, mask_national_id, validate_mobile, validate_national_id

# A published sample number (GB 11643 example) with a correct check digit.
VALID_ID = "11010519491231002X"


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


def test_masks_keep_only_what_agents_may_see():
    assert mask_national_id(VALID_ID) == "110105********002X"
    assert mask_mobile("13812345678") == "138****5678"
