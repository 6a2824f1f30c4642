"""What the night writes for the reports, once per date: positions by bucket, month-end positions and the flow
between them, vintage cohorts, and the entry rate's observations. Reports read these, never raw history.

Every row is keyed by its date and dimensions and inserted only if absent, so a re-run changes nothing,
a night killed half-way fills in what is missing, and the past is never restated: a correction (an
amended bill, a reversed payment) shows on later dates.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Bucket(models.TextChoices):
    """Days-past-due buckets as collection managers read them (M0 current … M7+ over 180 days)."""

    M0 = "M0", _("M0 current")
    M1 = "M1", _("M1 (1–30)")
    M2 = "M2", _("M2 (31–60)")
    M3 = "M3", _("M3 (61–90)")
    M4 = "M4", _("M4 (91–120)")
    M5 = "M5", _("M5 (121–150)")
    M6 = "M6", _("M6 (151–180)")
    M7 = "M7", _("M7+ (over 180)")
    # Where a line leaves the ladder: settled or written off (the flow matrix's last column).
    CHARGED_OFF = "CO", _("Charged off")


# The upper bound of each bucket's days past due, in order; M7 has none.
BUCKET_UPPER_DPD = [("M0", 0), ("M1", 30), ("M2", 60), ("M3", 90), ("M4", 120), ("M5", 150), ("M6", 180)]


class LineDay(models.Model):
    """The portfolio on one date: lines, outstanding principal and overdue amount by product, bucket, stage, team, agency.

    ``stage`` is empty for a line with no open case (current); ``team_id`` and ``agency_id`` are 0 for none.
    """

    as_of = models.DateField(_("date"))
    product_id = models.IntegerField(_("product"))
    policy_id = models.IntegerField(_("policy"))
    bucket = models.CharField(_("bucket"), max_length=2, choices=Bucket.choices)
    stage = models.CharField(_("stage"), max_length=12, blank=True)
    team_id = models.IntegerField(_("team"), default=0)
    agency_id = models.IntegerField(_("agency"), default=0)
    lines = models.IntegerField(_("lines"))
    principal_fen = models.BigIntegerField(_("outstanding principal (fen)"))
    overdue_fen = models.BigIntegerField(_("overdue amount (fen)"))

    class Meta:
        verbose_name = _("portfolio by day")
        verbose_name_plural = _("portfolio by day")
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "product_id", "bucket", "stage", "team_id", "agency_id"], name="line_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.as_of} {self.bucket} {self.lines}"


class MonthEndPosition(models.Model):
    """One credit line at a month's end: its bucket and balances, the flow matrix's raw material."""

    month_end = models.DateField(_("month end"))
    credit_line_id = models.BigIntegerField(_("credit line"))
    product_id = models.IntegerField(_("product"))
    opened_month = models.DateField(_("origination month"))
    bucket = models.CharField(_("bucket"), max_length=2, choices=Bucket.choices)
    principal_fen = models.BigIntegerField(_("outstanding principal (fen)"))
    overdue_fen = models.BigIntegerField(_("overdue amount (fen)"))
    # Who held the line's open case at the month end (0: none, or a month end from before the night ran).
    team_id = models.IntegerField(_("team"), default=0, db_default=0)
    agency_id = models.IntegerField(_("agency"), default=0, db_default=0)

    class Meta:
        verbose_name = _("month-end position")
        verbose_name_plural = _("month-end positions")
        constraints = [models.UniqueConstraint(fields=["month_end", "credit_line_id"], name="month_end_position_once")]

    def __str__(self) -> str:
        return f"{self.month_end} #{self.credit_line_id} {self.bucket}"


class FlowCell(models.Model):
    """Of the lines in ``from_bucket`` at the previous month's end, those in ``to_bucket`` at ``month_end``.

    ``team_id`` and ``agency_id`` are those that held the line's case at the previous month end (0 for none).
    """

    month_end = models.DateField(_("month end"))
    product_id = models.IntegerField(_("product"))
    team_id = models.IntegerField(_("team"), default=0, db_default=0)
    agency_id = models.IntegerField(_("agency"), default=0, db_default=0)
    from_bucket = models.CharField(pgettext_lazy("bucket", "from"), max_length=2, choices=Bucket.choices)
    to_bucket = models.CharField(pgettext_lazy("bucket", "to"), max_length=2, choices=Bucket.choices)
    lines = models.IntegerField(_("lines"))
    principal_fen = models.BigIntegerField(_("outstanding principal at the previous month end (fen)"))

    class Meta:
        verbose_name = _("flow cell")
        verbose_name_plural = _("flow cells")
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "product_id", "team_id", "agency_id", "from_bucket", "to_bucket"],
                name="flow_cell_by_holder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month_end} {self.from_bucket}→{self.to_bucket}"


class VintageCell(models.Model):
    """A cohort (lines opened in one month) at a month's end: lines and outstanding principal by bucket."""

    opened_month = models.DateField(_("origination month"))
    months_on_book = models.PositiveSmallIntegerField(_("months on book"))
    product_id = models.IntegerField(_("product"))
    bucket = models.CharField(_("bucket"), max_length=2, choices=Bucket.choices)
    lines = models.IntegerField(_("lines"))
    principal_fen = models.BigIntegerField(_("outstanding principal (fen)"))

    class Meta:
        verbose_name = _("vintage cell")
        verbose_name_plural = _("vintage cells")
        constraints = [
            models.UniqueConstraint(
                fields=["opened_month", "months_on_book", "product_id", "bucket"], name="vintage_cell_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opened_month:%Y-%m} +{self.months_on_book} {self.bucket}"


class EntryObservation(models.Model):
    """The entry rate's raw material: of the balance due on ``due_on``, what was still unpaid ``days_after`` later.

    Written when ripe: the day after (入催率, DPD1), then at DPD 4, 8 and 31; ``repeat`` says whether the
    customer had an earlier bill.
    """

    due_on = models.DateField(_("due on"))
    days_after = models.PositiveSmallIntegerField(_("days after the due date"))
    product_id = models.IntegerField(_("product"))
    repeat = models.BooleanField(_("repeat customer"))
    bills = models.IntegerField(_("bills due"))
    due_fen = models.BigIntegerField(_("due (fen)"))
    unpaid_fen = models.BigIntegerField(_("still unpaid (fen)"))

    class Meta:
        verbose_name = _("entry-rate observation")
        verbose_name_plural = _("entry-rate observations")
        constraints = [
            models.UniqueConstraint(
                fields=["due_on", "days_after", "product_id", "repeat"], name="entry_observation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.due_on} +{self.days_after}"


class PeopleDay(models.Model):
    """One business day's work per product and holder (agent, team, agency; 0 for none), the people report's rows.

    Cases in hand are those open at the day's end with that holder (``taken_in`` of them the holder
    took that day); money, contacts and promises are the day's, each for whoever held the case when
    it came in (``cases.workload.holding``). Amounts in fen; ``reversed_fen`` is negative.
    """

    day = models.DateField(_("date"))
    product_id = models.IntegerField(_("product"))
    agent_id = models.IntegerField(_("agent"), default=0)
    team_id = models.IntegerField(_("team"), default=0)
    agency_id = models.IntegerField(_("agency"), default=0)
    cases_in_hand = models.IntegerField(_("cases in hand"), default=0)
    in_hand_fen = models.BigIntegerField(_("overdue amount in hand (fen)"), default=0)
    never_contacted = models.IntegerField(_("cases in hand never contacted"), default=0)
    taken_in = models.IntegerField(_("cases taken in"), default=0)
    taken_in_fen = models.BigIntegerField(_("overdue amount taken in (fen)"), default=0)
    collected_fen = models.BigIntegerField(_("collected (fen)"), default=0)
    reversed_fen = models.BigIntegerField(_("reversed (fen)"), default=0)
    contacts = models.IntegerField(_("contacts"), default=0)
    right_party_contacts = models.IntegerField(_("right-party contacts"), default=0)
    first_contacts = models.IntegerField(_("first contacts"), default=0)
    first_contact_seconds = models.BigIntegerField(_("seconds to first contact"), default=0)
    promises_made = models.IntegerField(_("promises made"), default=0)
    promises_due = models.IntegerField(_("promises due"), default=0)
    promises_kept = models.IntegerField(_("promises kept on their date"), default=0)

    class Meta:
        verbose_name = _("people by day")
        verbose_name_plural = _("people by day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product_id", "agent_id", "team_id", "agency_id"], name="people_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} agent {self.agent_id} agency {self.agency_id}"
