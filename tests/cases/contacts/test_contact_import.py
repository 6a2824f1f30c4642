"""Contacts imported from a file: every valid row stored (rule breaks open incidents), a bad file refused whole."""

import datetime
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.roles import AGENCY, AGENT, LEGAL
from cases.agencies.services import case_place
from cases.choices import AgencyStatus
from cases.contacts.imports import contacts_import
from cases.models import Agency, AgencyMember, Case, ComplianceIncident, Contact
from cases.workload.priority import refresh_queue_ranks
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

HEADER = (
    "case,occurred_at,channel,direction,party,outcome,phone_number,agent,identity_disclosed,notes,recording_reference"
)


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 1))
    return Case.objects.get(credit_line=line)


def csv_bytes(*rows: str, encoding: str = "utf-8", header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def import_rows(*rows: str, actor=None, encoding: str = "utf-8"):
    return contacts_import(file=io.BytesIO(csv_bytes(*rows, encoding=encoding)), actor=actor)


def refusal(caught) -> str:
    return "\n".join(caught.value.messages)


def a_day_of_calls(case, agent) -> list[str]:
    """Five contacts of 2 March (Beijing time): the 12:00 call is the fourth connected one, the SMS (the fifth
    time the customer is reached that day, past the cap of 3 across channels) is at 23:00."""
    number = case.number
    return [
        # Listed first, but made last: the rules see the day in the order it happened.
        f"{number},2026-03-02T12:00:00+08:00,call,outbound,customer,connected,13800000000,,yes,代理机构外呼,REC-4",
        f"{number},2026-03-02T09:00:00+08:00,电话,outbound,customer,已接通,13800000000,{agent.username},是,承诺周五还款,REC-1",
        f"{number},2026-03-02 10:00,Call,Outbound,Customer,Promise to pay,13800000000,{agent.username},true,,REC-2",
        f"{number},2026-03-02T03:00:00Z,CALL,outbound,customer,connected,13800000000,{agent.username},1,,REC-3",
        f"{number},2026-03-02 23:00,短信,outbound,customer,connected,13800000000,{agent.username},否,请尽快还款,",
    ]


def test_a_gb18030_file_is_stored_whole_and_rule_breaking_rows_are_kept_with_an_incident(case, agent, supervisor):
    result = import_rows(*a_day_of_calls(case, agent), actor=supervisor, encoding="gb18030")

    assert result.rows_stored == 5
    assert result.incidents == {"CONTACT_OUTSIDE_WINDOW": 1, "DAILY_CONTACT_CAP": 1, "DAILY_MESSAGE_CAP": 1}
    contacts = Contact.objects.filter(case=case)
    assert contacts.count() == 5
    assert set(contacts.values_list("source", flat=True)) == {"imported"}
    fourth = contacts.get(recording_reference="REC-4")
    assert fourth.agent is None
    assert list(fourth.incidents.values_list("rule", flat=True)) == ["DAILY_CONTACT_CAP"]
    sms = contacts.get(channel="sms")
    assert sms.notes == "请尽快还款"
    assert sms.occurred_at == datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)
    assert sorted(sms.incidents.values_list("rule", flat=True)) == ["CONTACT_OUTSIDE_WINDOW", "DAILY_MESSAGE_CAP"]
    assert contacts.get(recording_reference="REC-2").outcome == "promise"
    assert "5 contacts imported; 3 compliance incidents opened" in result.summary()


def test_a_utf8_file_with_a_byte_order_mark_names_the_case_by_contract_and_an_agent_who_has_left(case, supervisor):
    departed = user_in(AGENT, "agent-left")
    departed.is_active = False
    departed.save()
    row = f"{case.credit_line.number},2026-03-03T10:00:00+08:00,call,inbound,customer,connected,,agent-left,否,,"

    result = import_rows(row, actor=supervisor, encoding="utf-8-sig")

    contact = Contact.objects.get(case=case)
    assert (contact.agent, contact.direction, contact.identity_disclosed) == (departed, "inbound", False)
    assert result.incidents == {"IDENTITY_NOT_DISCLOSED": 1}


def test_a_gb18030_file_with_a_byte_order_mark_is_read(case):
    data = "\ufeff".encode("gb18030") + csv_bytes(
        f"{case.number},2026-03-02 09:00,短信,outbound,customer,无人接听,,,,逾期提醒,", encoding="gb18030"
    )
    assert contacts_import(file=io.BytesIO(data), actor=None).rows_stored == 1
    assert Contact.objects.get().notes == "逾期提醒"


def test_a_file_with_bad_rows_is_refused_naming_row_field_and_value_and_stores_nothing(case, agent):
    good = f"{case.number},2026-03-02T09:00:00+08:00,call,outbound,customer,connected,,{agent.username},yes,,"
    before = (Contact.objects.count(), ComplianceIncident.objects.count())

    with pytest.raises(ValidationError) as caught:
        import_rows(
            good,
            f"{case.number},2026-03-02T09:05:00+08:00,fax,outbound,customer,connected,,,yes,,",
            "C99999999,2026-03-02T09:10:00+08:00,call,outbound,customer,connected,,,yes,,",
            f"{case.number},2026-13-02 09:15,call,outbound,customer,connected,,,yes,,",
            f"{case.number},2026-03-02 09:20,call,outbound,customer,connected,,nobody,maybe,,",
        )

    text = refusal(caught)
    assert "Row 3, channel 'fax': unknown" in text
    assert "Row 4, case 'C99999999'" in text
    assert "Row 5, occurred_at '2026-13-02 09:15'" in text
    assert "Row 6, identity_disclosed 'maybe'" in text
    assert "Row 6, agent 'nobody'" in text
    assert "Row 2" not in text
    assert (Contact.objects.count(), ComplianceIncident.objects.count()) == before


def test_a_missing_or_unknown_column_refuses_the_file(case):
    header = "case,occurred_at,chanel,outcome"
    with pytest.raises(ValidationError) as caught:
        contacts_import(
            file=io.BytesIO(csv_bytes(f"{case.number},2026-03-02 09:00,call,connected", header=header)), actor=None
        )
    assert "Column 'channel' is missing." in refusal(caught)
    assert "Column 'chanel' is unknown" in refusal(caught)
    assert not Contact.objects.exists()


def test_a_contact_in_the_future_or_without_a_time_is_refused(case):
    with pytest.raises(ValidationError) as caught:
        import_rows(
            f"{case.number},2099-01-01 10:00,call,outbound,customer,connected,,,yes,,",
            f"{case.number},2026-03-02,call,outbound,customer,connected,,,yes,,",
        )
    assert "Row 2, occurred_at '2099-01-01 10:00': in the future" in refusal(caught)
    assert "Row 3, occurred_at '2026-03-02': a time of day is needed" in refusal(caught)


def test_importing_the_same_file_twice_records_it_once(case):
    row = f"{case.number},2026-03-02T09:00:00+08:00,call,outbound,customer,no_answer,13800000000,,,,REC-9"
    import_rows(row)
    with pytest.raises(ValidationError) as caught:
        import_rows(row)
    assert "Row 2 is already stored" in refusal(caught)
    with pytest.raises(ValidationError) as caught:
        import_rows(row.replace("REC-9", "REC-10"), row.replace("REC-9", "REC-10"))
    assert "Row 3 repeats row 2" in refusal(caught)
    assert Contact.objects.count() == 1


def test_only_users_who_may_log_contacts_import_and_only_into_cases_they_see(case, legal, agent):
    row = f"{case.number},2026-03-02T09:00:00+08:00,call,outbound,customer,connected,,,yes,,"
    with pytest.raises(PermissionDenied):
        import_rows(row, actor=legal)
    with pytest.raises(ValidationError) as caught:
        import_rows(row, actor=agent)
    assert "no case with this case or contract number that you can see" in refusal(caught)
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    assert import_rows(row, actor=agent).rows_stored == 1


def test_fifty_rows_are_imported_in_a_bounded_number_of_queries(case, django_assert_max_num_queries):
    rows = [
        f"{case.number},2026-03-{day:02d}T09:{minute:02d}:00+08:00,call,outbound,customer,no_answer,1380000{minute:04d},,,,"
        for day in range(2, 12)
        for minute in range(5)
    ]
    # Each row goes through contact_log: the customer's and the line's locks, rule checks, insert, last
    # contact, follow-up, queue rank.
    with django_assert_max_num_queries(12 * len(rows) + 15):
        assert import_rows(*rows).rows_stored == 50


def test_a_supervisor_uploads_a_file_in_the_admin_and_sees_the_summary(client, case, agent, supervisor):
    client.force_login(supervisor)
    upload = SimpleUploadedFile("calls.csv", csv_bytes(*a_day_of_calls(case, agent), encoding="gb18030"))

    response = client.post(reverse("admin:cases_contact_import"), {"file": upload}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:cases_contact_changelist")
    page = response.content.decode()
    assert (
        "5 contacts imported; 3 compliance incidents opened: CONTACT_OUTSIDE_WINDOW 1, DAILY_CONTACT_CAP 1, DAILY_MESSAGE_CAP 1."
        in page
    )
    assert 'id="import-contacts"' in page
    assert Contact.objects.filter(case=case).count() == 5


def test_the_upload_page_shows_every_bad_row_and_stores_nothing(client, case, supervisor):
    client.force_login(supervisor)
    upload = SimpleUploadedFile(
        "calls.csv", csv_bytes(f"{case.number},2026-03-02 09:00,fax,outbound,customer,connected,,,yes,,")
    )

    response = client.post(reverse("admin:cases_contact_import"), {"file": upload})

    assert response.status_code == 200
    assert "Row 2, channel &#x27;fax&#x27;: unknown" in response.content.decode()
    assert not Contact.objects.exists()


def test_the_upload_page_is_refused_to_a_user_who_may_not_log_contacts(client, case, legal):
    client.force_login(legal)
    url = reverse("admin:cases_contact_import")
    upload = SimpleUploadedFile("calls.csv", csv_bytes(f"{case.number},2026-03-02 09:00,call,,,connected,,,yes,,"))
    assert client.get(url).status_code == 403
    assert client.post(url, {"file": upload}).status_code == 403
    assert not Contact.objects.exists()


def test_the_contact_list_takes_a_fixed_number_of_queries_and_finds_a_case_by_number(
    client, case, agent, supervisor, django_assert_max_num_queries
):
    import_rows(*a_day_of_calls(case, agent))
    client.force_login(supervisor)
    url = reverse("admin:cases_contact_changelist")
    with django_assert_max_num_queries(10):
        page = client.get(url, {"q": case.number})
    assert page.status_code == 200
    assert page.content.decode().count(f">{case.number}</a>") == 5


def test_the_command_prints_the_summary_and_fails_on_a_bad_file(case, agent, supervisor, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_bytes(*a_day_of_calls(case, agent), encoding="gb18030"))
    bad.write_bytes(csv_bytes("C99999999,2026-03-02 09:00,call,outbound,customer,connected,,,yes,,"))
    out = io.StringIO()

    call_command("import_contacts", str(good), user=supervisor.username, stdout=out)

    assert "5 contacts imported; 3 compliance incidents opened" in out.getvalue()
    with pytest.raises(CommandError) as caught:
        call_command("import_contacts", str(bad))
    assert "nothing was imported" in str(caught.value)
    assert "Row 2, case 'C99999999'" in str(caught.value)
    assert Contact.objects.count() == 5


def test_an_import_leaves_each_case_it_touched_ranked_as_its_new_contacts_make_it(case, agent, supervisor):
    refresh_queue_ranks(case_ids=[case.pk])  # ranked as of today before the import
    case.refresh_from_db()
    before = case.queue_rank
    an_hour_ago = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    import_rows(
        f"{case.number},{an_hour_ago},call,outbound,customer,no_answer,,{agent.username},yes,,", actor=supervisor
    )
    case.refresh_from_db()
    # Contacted an hour ago: the days-since-last-contact part of the rank fell to nothing.
    assert case.queue_rank < before
    assert refresh_queue_ranks(case_ids=[case.pk]) == 0  # the stored rank is the rank


def test_a_number_is_stored_as_dialled_within_the_mainland_and_a_bad_one_refuses_the_file_naming_it(case):
    row = f"{case.number},2026-03-02T09:{{minute}}:00+08:00,call,outbound,customer,no_answer,{{number}},,,,"
    good = [row.format(minute="00", number="+86 10 6234 5678"), row.format(minute="01", number="138-0013-8000")]
    bad = [row.format(minute="02", number="6234 5678"), row.format(minute="03", number="1" * 30)]

    with pytest.raises(ValidationError) as caught:
        import_rows(*good, *bad)

    text = refusal(caught)
    assert "Row 4, phone_number '6234 5678': Phone number '6234 5678' is not a mainland China mobile" in text
    assert f"Row 5, phone_number '{'1' * 30}': Phone number" in text
    assert "Row 2" not in text
    assert "Row 3" not in text
    assert not Contact.objects.exists()
    assert import_rows(*good).rows_stored == 2
    assert sorted(Contact.objects.values_list("phone_number", flat=True)) == ["01062345678", "13800138000"]


def test_a_row_names_only_a_back_office_user_who_may_log_contacts_and_an_agency_only_its_own(case, agent, supervisor):
    row = f"{case.number},2026-03-02T09:00:00+08:00,call,outbound,customer,connected,,{{agent}},yes,,"
    with pytest.raises(ValidationError) as caught:
        import_rows(row.format(agent=user_in(LEGAL, "legal-x").username), actor=supervisor)
    assert refusal(caught) == (
        "Row 2, agent 'legal-x': not a back-office user who may log contacts "
        "(a collection agent, agency agent or supervisor)."
    )
    agency = Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=timezone.localdate() - datetime.timedelta(days=30),
        contract_end=timezone.localdate() + datetime.timedelta(days=30),
    )
    collector, colleague = user_in(AGENCY, "agency-a"), user_in(AGENCY, "agency-b")
    for user in (collector, colleague):
        AgencyMember.objects.create(user=user, agency=agency)
    case_place(case=case, agency=agency, actor=supervisor)
    # An agency's lead who uploads the agency's dialler export, naming its collectors.
    collector.user_permissions.add(Permission.objects.get(codename="import_contacts_for_others"))
    collector = User.objects.get(pk=collector.pk)  # permissions are cached on the instance

    with pytest.raises(ValidationError) as caught:
        import_rows(row.format(agent=agent.username), actor=collector)
    assert refusal(caught) == "Row 2, agent 'agent-t': not a user of your agency who may log contacts."
    assert import_rows(row.format(agent="agency-b"), actor=collector).rows_stored == 1
    assert Contact.objects.get().agent == colleague


def test_a_row_dated_year_one_is_refused_naming_row_field_and_value(case, agent):
    with pytest.raises(ValidationError) as caught:
        import_rows(f"{case.number},0001-01-01T00:00:00,call,outbound,customer,connected,,,no,,", actor=agent)
    assert "Row 2" in refusal(caught)
    assert "occurred_at" in refusal(caught)
    assert "0001-01-01T00:00:00" in refusal(caught)
    assert not Contact.objects.exists()


def test_an_uploader_who_may_not_import_for_others_imports_only_their_own_contacts(case, agent, supervisor):
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    other = user_in(AGENT, "agent-other")
    row = f"{case.number},2026-03-02T10:00:00+08:00,call,outbound,customer,connected,,{{}},no,,REC-{{}}"
    with pytest.raises(ValidationError) as caught:
        import_rows(row.format(other.username, 1), row.format(supervisor.username, 2), actor=agent)
    assert "Row 2" in refusal(caught)
    assert "Row 3" in refusal(caught)
    assert other.username in refusal(caught)
    assert not Contact.objects.exists()
    # Their own name, or none, puts the contact on them.
    import_rows(row.format(agent.username, 3), row.format("", 4), actor=agent)
    assert set(Contact.objects.values_list("agent", "imported_by")) == {(agent.pk, agent.pk)}


def test_a_supervisor_may_import_contacts_made_by_others(case, agent, supervisor):
    row = f"{case.number},2026-03-02T10:00:00+08:00,call,outbound,customer,connected,,{agent.username},no,,REC-9"
    import_rows(row, actor=supervisor)
    assert list(Contact.objects.values_list("agent", "imported_by")) == [(agent.pk, supervisor.pk)]


def test_the_contact_list_shows_who_uploaded(client, case, agent, supervisor):
    row = f"{case.number},2026-03-02T10:00:00+08:00,call,outbound,customer,connected,,{agent.username},no,,REC-8"
    import_rows(row, actor=supervisor)
    client.force_login(supervisor)
    page = client.get(reverse("admin:cases_contact_changelist")).content.decode()
    assert "imported by" in page.lower()
    assert supervisor.username in page


def test_a_nul_in_any_cell_is_a_row_error_naming_its_column(case, supervisor):
    with pytest.raises(ValidationError) as caught:
        import_rows(
            f"{case.number}\x00,2026-03-02T10:00:00+08:00,call,outbound,customer,connected,,,no,备注\x00,",
            actor=supervisor,
        )
    assert "Row 2, case" in refusal(caught)
    assert "Row 2, notes" in refusal(caught)
    assert "control character" in refusal(caught)
    assert not Contact.objects.exists()
