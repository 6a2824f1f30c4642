"""The four kinds of ledger file: their columns, how a batch of rows is checked, and how it is applied.

Each kind writes through the ledger's own services, the ones the API uses: customers by national
ID, credit lines by contract number, bills by line and due date, payments by external reference.
A row that would change nothing is counted as unchanged and not saved again, so importing the same
file twice writes nothing the second time. ``apply`` returns the counts and the lines paid, whose
cases the caller brings up to date once the batch is committed.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import CreditLineStatus, Language, PaymentChannel
from accounts.ingest import PaymentRow, payments_post
from accounts.locks import credit_lines_lock
from accounts.models import Bill, CreditLine, Customer, Payment, Product
from accounts.services import bill_upsert, credit_line_upsert, customer_upsert
from accounts.validators import validate_received_at
from backoffice.kernel.bulksql import members
from backoffice.kernel.money import fen_to_yuan
from backoffice.kernel.tabular import row_problem
from backoffice.ledger_import import cells

OMITTED = object()
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class Column:
    """A column of a kind of file: its name, its Chinese header, how its cells read, what an empty cell means."""

    name: str
    alias: str
    parse: cells.Parser
    required: bool = False
    # The value of an empty cell; OMITTED leaves the field as it is (or at its default, for a new row).
    default: object = OMITTED


@dataclass
class Row:
    """One row of a file: its spreadsheet number, its cells as text and their values, by column name."""

    number: int
    raw: dict[str, str]
    values: dict[str, object] = field(default_factory=dict)

    def problem(self, column: str, message: str) -> "Problem":
        """Return the message naming this row, ``column`` and its value."""
        return Problem(
            row_problem(row=self.number, field=column, value=self.raw.get(column, ""), problem=message), self.number
        )


class Problem(str):
    """A message about one row of a file, which knows its row number, so that problems are listed in row order."""

    row: int

    def __new__(cls, message: str, row: int) -> "Problem":
        """Return the message, remembering its row."""
        problem = super().__new__(cls, message)
        problem.row = row
        return problem


def _field_problems(row: Row, exc: ValidationError) -> list[str]:
    return [row.problem(name, " ".join(messages)) for name, messages in exc.message_dict.items()]


class Customers:
    """Customers, keyed by national ID; an empty optional cell leaves that field as it is."""

    staged_columns: tuple = ()
    name = "customers"
    booleans = (
        "consents_to_calls",
        "consents_to_sms",
        "consents_to_email",
        "consents_to_push",
        "do_not_contact",
        "vulnerable",
    )
    columns = (
        Column("national_id", "身份证号", cells.text(), required=True),
        Column("name", "姓名", cells.text(required=True), required=True),
        Column("mobile", "手机号", cells.text(required=True), required=True),
        Column("email", "邮箱", cells.text()),
        Column("address", "地址", cells.text()),
        Column("preferred_language", "语言", cells.choice(Language)),
        Column("time_zone", "时区", cells.text()),
        Column("consents_to_calls", "同意电话", cells.yes_no),
        Column("consents_to_sms", "同意短信", cells.yes_no),
        Column("consents_to_email", "同意邮件", cells.yes_no),
        Column("consents_to_push", "同意推送", cells.yes_no),
        Column("do_not_contact", "勿扰", cells.yes_no),
        Column("vulnerable", "困难客户", cells.yes_no),
    )

    def key(self, row: Row) -> object:
        """The national ID, as the ledger stores it."""
        return str(row.values["national_id"]).upper()

    def _existing(self, rows: list[Row]) -> dict[str, Customer]:
        return Customer.objects.in_bulk([self.key(row) for row in rows], field_name="national_id")

    def _details(self, row: Row) -> dict:
        return {name: value for name, value in row.values.items() if name != "national_id"}

    def check(self, rows: list[Row]) -> list[str]:
        """Validate each row as the customer it would leave behind, without saving it."""
        existing, problems = self._existing(rows), []
        for row in rows:
            customer = existing.get(self.key(row)) or Customer(national_id=self.key(row))
            for name, value in self._details(row).items():
                setattr(customer, name, value)
            try:
                customer.full_clean(validate_unique=False)
            except ValidationError as exc:
                problems += _field_problems(row, exc)
        return problems

    def apply(self, rows: list[Row], actor: AbstractBaseUser | None) -> tuple[Counter, set[int]]:
        """Create or update each customer whose row changes something."""
        existing, counts = self._existing(rows), Counter()
        for row in rows:
            customer, details = existing.get(self.key(row)), self._details(row)
            if customer is not None and all(getattr(customer, name) == value for name, value in details.items()):
                counts["unchanged"] += 1
                continue
            _customer, created = customer_upsert(national_id=self.key(row), actor=actor, **details)
            counts["created" if created else "updated"] += 1
        return counts, set()


class CreditLines:
    """Credit lines, keyed by contract number; the lender owns the limit and whether the line is closed."""

    staged_columns: tuple = ()
    name = "lines"
    columns = (
        Column("number", "合同号", cells.text(CreditLine._meta.get_field("number").max_length, required=True), True),
        Column("customer_national_id", "身份证号", cells.text(required=True), required=True),
        Column("product", "产品", cells.text(required=True), required=True),
        Column("limit", "额度", cells.fen(), required=True),
        Column("opened_on", "开户日期", cells.date, required=True),
        Column("closed", "已关闭", cells.yes_no, default=False),
    )

    def key(self, row: Row) -> object:
        """The contract number."""
        return row.values["number"]

    def _context(self, rows: list[Row]) -> tuple[dict, dict, dict]:
        national_ids = [str(row.values["customer_national_id"]).upper() for row in rows]
        return (
            Customer.objects.in_bulk(national_ids, field_name="national_id"),
            {product.code: product for product in Product.objects.all()},
            CreditLine.objects.in_bulk([self.key(row) for row in rows], field_name="number"),
        )

    def check(self, rows: list[Row]) -> list[str]:
        """Refuse rows naming an unknown customer or product, or a line that is another's."""
        customers, products, lines = self._context(rows)
        problems = []
        for row in rows:
            customer = customers.get(str(row.values["customer_national_id"]).upper())
            product = products.get(row.values["product"])
            line = lines.get(self.key(row))
            if customer is None:
                problems.append(
                    row.problem("customer_national_id", _("no customer has this national ID; import customers first."))
                )
            if product is None:
                problems.append(row.problem("product", _("no product has this code.")))
            if line and customer and product and (line.customer_id, line.product_id) != (customer.pk, product.pk):
                problems.append(row.problem("number", _("this line belongs to another customer or product.")))
        return problems

    def _unchanged(self, line: CreditLine | None, row: Row) -> bool:
        if line is None or line.limit_fen != row.values["limit"]:
            return False
        if row.values["closed"]:
            return line.status in (CreditLineStatus.CLOSED, CreditLineStatus.CHARGED_OFF)
        return line.status != CreditLineStatus.CLOSED

    def apply(self, rows: list[Row], actor: AbstractBaseUser | None) -> tuple[Counter, set[int]]:
        """Open or update each line whose row changes something."""
        customers, _products, lines = self._context(rows)
        # The lines already open, at once and in id order, rather than row by row in the file's order (see Bills).
        credit_lines_lock(line_ids=[line.pk for line in lines.values()], for_update=True)
        counts = Counter()
        for row in rows:
            if self._unchanged(lines.get(self.key(row)), row):
                counts["unchanged"] += 1
                continue
            _line, created = credit_line_upsert(
                number=self.key(row),
                customer=customers[str(row.values["customer_national_id"]).upper()],
                product_code=row.values["product"],
                limit=fen_to_yuan(row.values["limit"]),
                opened_on=row.values["opened_on"],
                closed=row.values["closed"],
                actor=actor,
            )
            counts["created" if created else "updated"] += 1
        return counts, set()


_BILL_AMOUNTS = ("principal_due", "interest_due", "fees_due")


class Bills:
    """Bills, keyed by credit line and due date; amending the amounts of a bill needs a reason."""

    staged_columns: tuple = ()
    name = "bills"
    columns = (
        Column("credit_line", "合同号", cells.text(required=True), required=True),
        Column("due_date", "到期日", cells.date, required=True),
        Column("principal_due", "应还本金", cells.fen(), required=True),
        Column("interest_due", "应还利息", cells.fen(), default=0),
        Column("fees_due", "应还费用", cells.fen(), default=0),
        Column("reason", "修改原因", cells.text(500), default=""),
    )

    def key(self, row: Row) -> object:
        """The contract number and the due date."""
        return (row.values["credit_line"], row.values["due_date"])

    def _context(self, rows: list[Row]) -> tuple[dict[str, CreditLine], dict[tuple, Bill]]:
        lines = CreditLine.objects.in_bulk([row.values["credit_line"] for row in rows], field_name="number")
        bills = Bill.objects.filter(
            credit_line__in=lines.values(), due_date__in={row.values["due_date"] for row in rows}
        ).select_related("credit_line")
        return lines, {(bill.credit_line.number, bill.due_date): bill for bill in bills}

    def check(self, rows: list[Row]) -> list[str]:
        """Refuse rows naming an unknown line or amending without a reason (one below what was paid moves the excess)."""
        lines, bills = self._context(rows)
        problems = []
        for row in rows:
            if row.values["credit_line"] not in lines:
                problems.append(row.problem("credit_line", _("no credit line has this contract number.")))
                continue
            bill = bills.get(self.key(row))
            if bill is None:
                continue
            if not self._unchanged(bill, row) and not row.values["reason"].strip():
                problems.append(
                    row.problem("reason", _("the bill exists with other amounts; amending it needs a reason."))
                )
        return problems

    def _unchanged(self, bill: Bill | None, row: Row) -> bool:
        return bill is not None and all(getattr(bill, f"{name}_fen") == row.values[name] for name in _BILL_AMOUNTS)

    def apply(self, rows: list[Row], actor: AbstractBaseUser | None) -> tuple[Counter, set[int]]:
        """Create or amend each bill whose row changes something; return the lines amended (their cases refresh)."""
        lines, bills = self._context(rows)
        # Every line of the batch at once, in id order, as a payment or a night batch locks its
        # lines: bill by bill, in the file's order, two lines could be taken the other way.
        credit_lines_lock(line_ids=[line.pk for line in lines.values()], for_update=True)
        counts, amended = Counter(), set()
        for row in rows:
            if self._unchanged(bills.get(self.key(row)), row):
                counts["unchanged"] += 1
                continue
            _bill, created = bill_upsert(
                credit_line=lines[row.values["credit_line"]],
                due_date=row.values["due_date"],
                amounts={name: fen_to_yuan(row.values[name]) for name in _BILL_AMOUNTS},
                reason=row.values["reason"],
                actor=actor,
            )
            counts["created" if created else "updated"] += 1
            if not created:
                amended.add(lines[row.values["credit_line"]].pk)
        return counts, amended


class Payments:
    """Payments, recorded once per external reference; each batch brings its lines' cases up to date."""

    name = "payments"
    columns = (
        Column("credit_line", "合同号", cells.text(required=True), required=True),
        Column(
            "external_reference",
            "流水号",
            cells.text(Payment._meta.get_field("external_reference").max_length, required=True),
            required=True,
        ),
        Column("amount", "金额", cells.fen(positive=True), required=True),
        Column("channel", "渠道", cells.choice(PaymentChannel), required=True),
        Column("received_at", "到账时间", cells.moment, required=True),
    )

    def key(self, row: Row) -> object:
        """The external reference."""
        return row.values["external_reference"]

    # Read once into a staging table and applied sorted by line, then by time received and row.
    staged_columns = (
        ("credit_line", "text"),
        ("external_reference", "text"),
        ("amount", "bigint"),
        ("channel", "text"),
        ("received_at", "bigint"),  # microseconds since the epoch: sorts as the instant, on both databases
    )
    staged_order = ("credit_line", "received_at", "number")
    staged_group = "credit_line"

    def staged(self, row: Row) -> tuple:
        """The row's values as the staging table holds them."""
        values = row.values
        received = (values["received_at"] - _EPOCH) // _MICROSECOND
        return (values["credit_line"], values["external_reference"], values["amount"], values["channel"], received)

    def unstaged(self, staged: list[tuple]) -> list[Row]:
        """Rows back from the staging table (their cells are not kept: only a refused batch names them, by number).

        A file's times repeat (to the minute, row after row): each distinct one is converted once.
        """
        zone, rows, moments = timezone.get_current_timezone(), [], {}
        for number, line, reference, amount, channel, received in staged:
            moment = moments.get(received)
            if moment is None:
                moment = moments[received] = (_EPOCH + datetime.timedelta(microseconds=received)).astimezone(zone)
            values = {
                "credit_line": line,
                "external_reference": reference,
                "amount": amount,
                "channel": channel,
                "received_at": moment,
            }
            rows.append(Row(number, values, values))
        return rows

    def check(self, rows: list[Row]) -> list[str]:
        """Refuse rows naming an unknown line, a time it cannot have been received, or a reference used before.

        Two queries, whatever the number of rows; the times are checked as ``payments_post`` checks them.
        """
        lines = {
            number: (line_id, opened_on)
            for number, line_id, opened_on in CreditLine.objects.filter(
                number__in=members(sorted({row.values["credit_line"] for row in rows}), "text")
            ).values_list("number", "id", "opened_on")
        }
        recorded = {
            reference: earlier
            for reference, *earlier in Payment.objects.filter(
                external_reference__in=members([self.key(row) for row in rows], "text")
            ).values_list("external_reference", "credit_line_id", "amount_fen", "channel", "received_at")
        }
        problems, now, zone = [], timezone.now(), timezone.get_current_timezone()
        for row in rows:
            (line_id, opened_on), earlier = (
                lines.get(row.values["credit_line"], (None, None)),
                recorded.get(self.key(row)),
            )
            if line_id is None:
                problems.append(row.problem("credit_line", _("no credit line has this contract number.")))
                continue
            values = row.values
            if earlier is not None and earlier != [line_id, values["amount"], values["channel"], values["received_at"]]:
                problems.append(
                    row.problem(
                        "external_reference",
                        _("already used for a different payment (line, amount, channel or time received)."),
                    )
                )
            try:
                validate_received_at(row.values["received_at"], opened_on=opened_on, now=now, zone=zone)
            except ValidationError as exc:
                problems.append(row.problem("received_at", exc.messages[0]))
        return problems

    def apply(self, rows: list[Row], actor: AbstractBaseUser | None) -> tuple[Counter, set[int]]:
        """Record the batch's payments set-wise, returning the lines paid; a recorded reference is a replay."""
        posted = payments_post(
            rows=[
                PaymentRow(
                    credit_line=row.values["credit_line"],
                    external_reference=self.key(row),
                    amount=None,
                    amount_fen=row.values["amount"],
                    channel=row.values["channel"],
                    received_at=row.values["received_at"],
                )
                for row in rows
            ],
            actor=actor,
        )
        counts = Counter(replayed=sum(1 for payment in posted if payment.replayed))
        counts["recorded"] = len(posted) - counts["replayed"]
        return counts, {payment.credit_line_id for payment in posted if not payment.replayed}


KINDS = {kind.name: kind for kind in (Customers(), CreditLines(), Bills(), Payments())}
