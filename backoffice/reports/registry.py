"""The reports supervisors read, by the name in their URL, each with the definition its help text states."""

import dataclasses
from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from backoffice.reports.commission import commission_report
from backoffice.reports.compliance import compliance_report
from backoffice.reports.entry_rate import entry_rate_report
from backoffice.reports.flow_rates import flow_rates_report
from backoffice.reports.forms import Filters
from backoffice.reports.inventory import inventory_report
from backoffice.reports.letters_funnel import letters_report
from backoffice.reports.people import people_report
from backoffice.reports.recovery import recovery_report
from backoffice.reports.tables import ReportResult
from backoffice.reports.vintage import vintage_report


@dataclasses.dataclass(frozen=True)
class ReportSpec:
    """A report: its URL name, title, one-line summary, definition, the filters it takes and how it is built."""

    name: str
    title: str
    summary: str
    definition: str
    filters: tuple[str, ...]
    build: Callable[[Filters], ReportResult]
    # Why a filter every report might take (team, agency) is not offered, when it is not.
    filters_note: str = ""


REPORTS = {
    spec.name: spec
    for spec in [
        ReportSpec(
            name="inventory",
            title=_("Inventory by bucket (存量/账龄)"),
            summary=_("Lines, overdue amount and outstanding principal by days-past-due bucket on a date"),
            definition=_(
                "The portfolio as the night counted it on the date: every credit line with a balance, current (M0) "
                "lines included, by days-past-due bucket (M0 current, M1 1–30, M2 31–60, M3 61–90, M4 91–120, "
                "M5 121–150, M6 151–180, M7+ over 180). Amounts are the overdue amount (what is past due); the "
                "outstanding principal is shown beside it. Shares divide sums. A bucket's count of lines leads to "
                "today's open cases in that bucket (M0 lines have no case)."
            ),
            filters=("day", "team", "agency", "group_by"),
            build=inventory_report,
        ),
        ReportSpec(
            name="entry-rate",
            title=_("Entry rate (入催率)"),
            summary=_("Of the balance due on each day, the share still unpaid the day after, and later"),
            definition=_(
                "Entry rate (入催率, DPD1+) = the balance due on a day and still unpaid at its end ÷ the balance "
                "due that day. Over several days, products or customers it is the sum of what was unpaid over the "
                "sum of what was due, never an average of daily rates. The follow-through columns give the share "
                "still unpaid 4, 8 and 31 days after the due date; they are greyed as not yet ripe until those "
                "days have passed. New customers have no earlier bill; repeat customers have one."
            ),
            filters=("range", "due_dates"),
            build=entry_rate_report,
            filters_note=_(
                "No team or agency filter: a bill due on a day has no case until it is a day past due, so no team "
                "or agency holds the balance the entry rate measures."
            ),
        ),
        ReportSpec(
            name="flow-rates",
            title=_("Flow rates (迁徙率)"),
            summary=_("The transition matrix between two month ends, as a heat map, and the collection multiplier"),
            definition=_(
                "Flow rate (迁徙率) from bucket A = of the outstanding principal in bucket A at the end of the "
                "month before T, the share in bucket A+1 at the end of month T. The matrix shows every move: "
                "improving, staying, worsening and to charge-off (CO), each cell as a share of its row, by "
                "principal and by count of lines. The collection multiplier is the product of the successive "
                "flow rates M0→M1 × M1→M2 × …. This is not roll-rate analysis (one cohort followed over many "
                "months) nor vintage (by origination month)."
            ),
            filters=("month", "team", "agency"),
            build=flow_rates_report,
            filters_note=_(
                "Team and agency: those that held the line's case at the end of the month before T (current M0 "
                "lines have none). Month ends from before the nightly run recorded them, such as the demo's "
                "past, have no team or agency."
            ),
        ),
        ReportSpec(
            name="vintage",
            title=_("Vintage (账龄分析)"),
            summary=_("By origination month and months on book, the share of principal 31+ and 61+ days past due"),
            definition=_(
                "Vintage: the credit lines opened in one month form a cohort. For each month on book (MOB 0 is the "
                "month of opening), the share of the cohort's outstanding principal in buckets M2 and above (31+ "
                "days past due) and M3 and above (61+), over the cohort's outstanding principal in M0 to M7+. "
                "Charged-off lines are no longer outstanding and count in neither. The twelve cohorts up to the "
                "chosen month are shown."
            ),
            filters=("month",),
            build=vintage_report,
            filters_note=_(
                "No team or agency filter: a cohort is every line opened in a month, followed over its whole life, "
                "while the team or agency working a line changes from month to month."
            ),
        ),
        ReportSpec(
            name="compliance",
            title=_("Compliance (合规)"),
            summary=_("Incidents by rule and by agent and agency, contacts refused by rule, reveals of personal data"),
            definition=_(
                "Counts over the chosen days, as the night counted each local day once it had ended. Incidents: "
                "the rules imported contacts broke (each rule broken opens one), by the contact's agent and the "
                "case's team and agency. Contacts refused: contacts an agent entered that a rule refused, one "
                "per rule. Messages stopped: messages to customers planned for the day that a rule stopped "
                "before they left; the system stops them, so they have no agent, and a reminder before the due "
                "date has no case, hence no team or agency. Reveals: each time a user saw a customer's full "
                "mobile or national ID number, by user and their agency; a reveal is of a customer, not of a "
                "case, so the product, policy and team filters leave reveals out. The team is the agent's team "
                "for the case's stage. A count leads to the records behind it where their list can be narrowed "
                "to exactly them: not under a product, policy or team filter, and stopped messages for a single "
                "day."
            ),
            filters=("range", "team", "agency"),
            build=compliance_report,
        ),
        ReportSpec(
            name="recovery",
            title=_("Recovery and cure rates (催回率/治愈率)"),
            summary=_("Of the cases that entered each stage in the range, what was collected and how their stay ended"),
            definition=_(
                "A cohort is the cases that entered a stage on the days of the range: the reminder stage when the "
                "case opened, collection or legal when it climbed to them (a return from a hold is no entry), "
                "dated by the business date of the run or the day a person moved it. Assigned = the overdue "
                "amount of the case's credit line at the start of the entry day. Collected = payments on the "
                "line while the case was in that stage, net of reversals (a reversal counts against the stay its "
                "payment counted for, on the reversal's own day). Everything is as it stood at the end of the "
                "range's last day. Recovery rate (催回率) by amount = collected ÷ assigned; by cases = the cases "
                "whose net collection is above zero ÷ the cases entered. Cure rate by payment (治愈率/出催率) = "
                "the cases resolved (nothing overdue any more) with payments since entry covering what was "
                "assigned ÷ the cases entered; a case resolved without that (its bills re-aged or amended) is "
                "a cure by re-ageing, not by payment, and is counted apart, as are settlements, write-offs, "
                "closings, escalations to the next stage and the cases still in the stage (of which those on "
                "hold). Sums are divided, never averages of rates. Team and agency are the case's on the night "
                "after it entered."
            ),
            filters=("range", "team", "agency", "group_by"),
            build=recovery_report,
        ),
        ReportSpec(
            name="letters",
            title=_("Letters funnel (律师函)"),
            summary=_(
                "Letters drafted, approved, sent and paid within 30 days, per law firm and template, and their cost"
            ),
            definition=_(
                "The letters that reached each step on the days of the range: drafted (requested), approved by a "
                "legal reviewer, sent; and those that left the funnel, rejected or cancelled, with the reasons "
                "given (the case's number taken out, so that the same reason groups). Shares of the steps are of "
                "the letters drafted in the range. Paid within 30 days: of the letters sent in the range, those "
                "whose case's credit line received payments, net of reversals, on the day of the sending or the "
                "29 days after, that add up to more than nothing; recovered is what those payments add up to (a "
                "reversal inside the 30 days takes its payment back, one after does not; a payment counts for "
                "each letter sent to the case in the 30 days before it). Until a sending's 30 days are over, its "
                "figures are not yet ripe. Legal cost = the letters sent × the law firm's cost per letter, as "
                "set on the firm the night after the sending; recovered per yuan of legal cost divides the sums."
            ),
            filters=("range", "firm", "template"),
            build=letters_report,
        ),
        ReportSpec(
            name="people",
            title=_("People (人员绩效)"),
            summary=_("Per agent, team or agency: cases in hand, collected, recovery rate, contacts and promises"),
            definition=_(
                "Each case belongs, at every moment, to its holder: the agent it was last assigned to (the "
                "assignment record) and the agency it is placed with (the placement record); a case placed with "
                "an agency has no agent. Money, contacts and promises count for whoever held the case when they "
                "came in, on the business day they happened (or were recorded, if later). An agent's team is the "
                "team of the case's stage they belong to, or else their first team. Cases in hand: open at the end "
                "of the range's last day. Cases assigned: in hand at the end of the day before the range, plus each "
                "case taken over by its holder during the range; the overdue amount assigned is their overdue "
                "balance then. Collected: payments less reversals; a reversal counts on its own day against "
                "whoever held the case when the payment came in. Recovery rate (催回率) = collected ÷ overdue "
                "amount assigned. Contacts per case = contacts ÷ cases assigned. Right-party contact rate = "
                "contacts that reached the customer in person ÷ contacts. Coverage gap = cases in hand that nobody "
                "has ever contacted ÷ cases in hand. Hours to first contact = the hours from a holder taking a "
                "case to their first contact on it, summed over the first contacts of the range ÷ their number. "
                "Promises kept on their date = promises falling due in the range that were paid in full by the "
                "promised date (payments recorded since the promise, net of reversals by then) ÷ promises due. "
                "Every rate divides sums over the range, never an average of daily rates. Each count leads to the "
                "case list filtered to the cases behind it."
            ),
            filters=("range", "team", "agency", "people_group_by"),
            build=people_report,
        ),
        ReportSpec(
            name="commission",
            title=_("Agency commission (佣金结算)"),
            summary=_("A month's statement per agency: collected under its placements, rate, commission earned"),
            definition=_(
                "Collected by an agency in the month: the payments that came in while a case was placed with it "
                "(between its placement and its recall), less the reversals recorded in the month of payments "
                "that came in while it held the case. A payment reversed in the month it came in collected "
                "nothing and earns nothing; one reversed in a later month is taken off that month's statement, "
                "so the commission paid on it is clawed back. Commission earned = net collected × the agency's "
                "commission rate in force at the month's end (percent of what is collected), rounded to the fen."
            ),
            filters=("month", "agency"),
            build=commission_report,
        ),
    ]
}
