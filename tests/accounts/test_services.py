import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.models import CreditLine, Customer
from accounts.services import credit_line_open, customer_create
from accounts.validators import national_id_check_character
from tests.factories import CustomerFactory, ProductFactory, valid_national_id

pytestmark = pytest.mark.django_db


def test_a_customer_with_a_bad_national_id_is_refused_naming_the_field_and_value():
    with pytest.raises(ValidationError) as caught:
        customer_create(name="张三", national_id="110105194912310021", mobile="13812345678")
    assert "110105194912310021" in caught.value.message_dict["national_id"][0]
    assert Customer.objects.count() == 0


def test_a_customer_with_a_bad_mobile_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        customer_create(name="张三", national_id=valid_national_id(), mobile="1234")
    assert "1234" in caught.value.message_dict["mobile"][0]


def test_a_lowercase_x_check_character_is_accepted_as_x():
    customer = customer_create(name="李四", national_id="11010519491231002x", mobile="13912345678")
    assert customer.national_id == "11010519491231002X"


def test_a_customer_from_a_region_no_county_ever_had_is_refused_naming_the_field_and_value():
    first17 = "99010119900307123"
    national_id = first17 + national_id_check_character(first17)
    with pytest.raises(ValidationError) as caught:
        customer_create(name="张三", national_id=national_id, mobile="13812345678")
    assert national_id in caught.value.message_dict["national_id"][0]
    assert Customer.objects.count() == 0


def test_a_customer_with_a_mobile_on_an_unused_prefix_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        customer_create(name="张三", national_id=valid_national_id(), mobile="14012345678")
    assert "14012345678" in caught.value.message_dict["mobile"][0]
    assert Customer.objects.count() == 0


def test_an_unknown_product_is_refused_naming_the_field_and_value():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as caught:
        credit_line_open(
            customer=customer,
            product_code="no-such",
            number="CL1",
            limit="1000.00",
            opened_on=datetime.date(2026, 1, 1),
        )
    assert "no-such" in caught.value.message_dict["product"][0]
    assert CreditLine.objects.count() == 0


def test_a_negative_limit_is_refused_naming_the_field():
    ProductFactory(code="baitiao")
    with pytest.raises(ValidationError) as caught:
        credit_line_open(
            customer=CustomerFactory(),
            product_code="baitiao",
            number="CL1",
            limit="-1.00",
            opened_on=datetime.date(2026, 1, 1),
        )
    assert "-1.00" in caught.value.message_dict["limit"][0]
