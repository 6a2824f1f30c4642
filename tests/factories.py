"""Factories for the ledger and cases, with realistic Chinese people."""

import datetime
import itertools

import factory
from django.contrib.auth.models import Group, User

from accounts.models import Bill, CreditLine, Customer, Product
from accounts.validators import national_id_check_character
from cases.models import DunningPolicy
from letters.models import LawFirm, Lawyer, LetterTemplate
from letters.services import template_activate

_serial = itertools.count(1)
# Real county codes (GB/T 2260), each in use by the default birth year.
_REGIONS = ("110101", "110105", "110108", "310104", "440305", "440106", "510107", "330106", "320102", "420106")


def valid_national_id(serial: int | None = None, *, born: str = "19900307") -> str:
    """Return a valid ID number of a real county, unique per serial (for 10,000 serials)."""
    serial = next(_serial) if serial is None else serial
    first17 = f"{_REGIONS[serial // 1000 % len(_REGIONS)]}{born}{serial % 1000:03d}"
    return first17 + national_id_check_character(first17)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name", locale="zh_CN")
    national_id = factory.LazyFunction(valid_national_id)
    mobile = factory.Sequence(lambda n: f"138{n % 100000000:08d}")
    address = factory.Faker("address", locale="zh_CN")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = "baitiao"
    name = "白条"
    policy = factory.LazyFunction(lambda: DunningPolicy.objects.get(code="standard"))


class CreditLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditLine

    number = factory.Sequence(lambda n: f"CL-T-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    limit_fen = 1_000_000
    opened_on = datetime.date(2025, 1, 1)


class BillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bill

    credit_line = factory.SubFactory(CreditLineFactory)
    due_date = datetime.date(2026, 1, 10)
    principal_due_fen = 100_000
    interest_due_fen = 2_000
    fees_due_fen = 500


def product_on(policy_code: str) -> Product:
    """Return a product on the named shipped policy."""
    return ProductFactory(code=f"p-{policy_code}", policy=DunningPolicy.objects.get(code=policy_code))


def overdue_line(*, due: datetime.date, policy: str = "standard", principal_fen: int = 100_000) -> CreditLine:
    """Return a credit line with one unpaid bill due on ``due``."""
    line = CreditLineFactory(product=product_on(policy))
    BillFactory(credit_line=line, due_date=due, principal_due_fen=principal_fen, interest_due_fen=0, fees_due_fen=0)
    return line


def user_in(role: str, username: str | None = None) -> User:
    """Return a staff user in the named role group."""
    user = User.objects.create_user(username=username or f"{role[:5].lower()}{next(_serial)}", password="pw-123456")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def law_firm_with_lawyer(lawyer_login: User) -> LawFirm:
    """Return a law firm whose lawyer signs in as ``lawyer_login``, with its lawyer-letter templates active."""

    firm = LawFirm.objects.create(
        name="北京示例律师事务所",
        address="北京市东城区示例大街 8 号",
        licence_number=f"31110000TEST{lawyer_login.pk:04d}X",
        phone="010-0000-0000",
        email="firm@example.com",
        engagement_reference="ENG-T-1",
    )
    Lawyer.objects.create(firm=firm, name="陈律师", licence_number=f"111012026{lawyer_login.pk:08d}", user=lawyer_login)
    for template in LetterTemplate.objects.filter(kind="lawyer_letter"):
        template.firm = firm
        template.save()
        template_activate(template=template, actor=None)
    return firm
