import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Customer
from accounts.validators import (
    mainland_phone_number,
    mask_mobile,
    mask_national_id,
    national_id_check_character,
    validate_mobile,
    validate_national_id,
)

# A published sample number (GB 11643 example) with a correct check digit.
VALID_ID = "11010519491231002X"
# Prefixes of the mainland numbering plan that no mobile number has.
UNUSED_MOBILE_PREFIXES = [140, 141, 142, 143, 144, 146, 148, 149, 154, 160, 161, 163, 164, 168, 169, 174, 179, 194]


def an_id_number(first17: str) -> str:
    return first17 + national_id_check_character(first17)


def test_a_valid_national_id_passes():
    validate_national_id(VALID_ID)


def test_the_check_character_of_the_published_sample_is_x():
    assert national_id_check_character(VALID_ID[:17]) == "X"


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


# 110199: a known province and prefecture but no county (python-stdnum's own ric.validate raises KeyError on it).
@pytest.mark.parametrize("region", ["990101", "110199", "119901", "119999", "830001"])
def test_a_region_code_no_county_ever_had_is_refused_though_the_check_digit_is_right(region):
    value = an_id_number(f"{region}19900307123")
    with pytest.raises(ValidationError) as caught:
        validate_national_id(value)
    assert caught.value.code == "region"
    assert value in caught.value.messages[0]
    assert region in caught.value.messages[0]


@pytest.mark.parametrize(
    "first17",
    [
        "50010319850615123",  # Chongqing's codes date from 1997: holders born before carry them
        "11011519900307123",  # Daxing became a district (with this code) in 2001
        "11010319700101123",  # Chongwen, merged away in 2010: its IDs stay valid
        "35052419960101123",
        "44030519900307001",
    ],
)
def test_an_id_of_a_real_county_passes_whatever_the_holders_birth_year(first17):
    validate_national_id(an_id_number(first17))


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_pass(region):
    validate_national_id(an_id_number(f"{region}19850615123"))


@pytest.mark.parametrize("first17", ["81000019850230123", "82000021000101123"])
def test_a_residence_permit_with_an_impossible_birth_date_is_refused(first17):
    with pytest.raises(ValidationError) as caught:
        validate_national_id(an_id_number(first17))
    assert caught.value.code == "birth_date"


def test_a_residence_permit_with_a_wrong_check_digit_is_refused():
    right = an_id_number("83000019850615123")
    wrong = right[:17] + ("1" if right[17] == "0" else "0")
    with pytest.raises(ValidationError) as caught:
        validate_national_id(wrong)
    assert caught.value.code == "check_digit"


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


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("010-62345678", "01062345678"),
        ("+86 (0)10 6234 5678", "01062345678"),
        ("+86 10 6234 5678", "01062345678"),
        ("(0571) 8888 6666", "057188886666"),
        ("0351 1234567", "03511234567"),
    ],
)
def test_a_mainland_mobile_or_fixed_line_is_stored_as_dialled_within_the_mainland(written, stored):
    assert mainland_phone_number(written) == stored


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345",
        "6234 5678",
        "1380013800",
        "14012345678",
        "400-812-3123",
        "+852 9123 4567",
        "+1 650 253 0000",
        "1" * 30,
    ],
)
def test_a_number_that_is_no_mainland_mobile_or_fixed_line_is_refused_naming_it(value):
    with pytest.raises(ValidationError) as caught:
        mainland_phone_number(value)
    assert caught.value.code == "phone_number"
    assert repr(value) in caught.value.messages[0]


def test_a_number_with_an_extension_is_refused():
    with pytest.raises(ValidationError, match="extension"):
        mainland_phone_number("010-62345678 ext. 12")


def test_masks_keep_only_what_agents_may_see():
    assert mask_national_id(VALID_ID) == "110105********002X"
    assert mask_mobile("13812345678") == "138****5678"


@pytest.mark.django_db
def test_the_customer_form_shows_an_unknown_region_and_prefix_on_their_fields(admin_client):
    national_id = an_id_number("99010119900307123")
    form = {"name": "张三", "national_id": national_id, "mobile": "14012345678", "preferred_language": "zh-hans"}
    form |= {"time_zone": "Asia/Shanghai"}
    response = admin_client.post(reverse("admin:accounts_customer_add"), form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"national_id", "mobile"}
    assert national_id in errors["national_id"][0]
    assert "14012345678" in errors["mobile"][0]
    assert Customer.objects.count() == 0
