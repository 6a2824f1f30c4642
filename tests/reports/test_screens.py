"""The reports in the admin: who gets in, the filters in the URL, the exports, the case list's drill-down."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.reports.models import BUCKET_UPPER_DPD, EntryObservation, LineDay
from backoffice.reports.registry import REPORTS
from cases.admin.filters import MONTH_BUCKET_RANGES
from cases.models import Case, Team
from tests.factories import ProductFactory, overdue_line

pytestmark = pytest.mark.django_db

NOV_30 = datetime.date(2026, 11, 30)


@pytest.mark.parametrize("name", list(REPORTS))
def test_supervisors_and_superusers_read_every_report_and_agents_and_agencies_get_403(
    name, client, supervisor, root, agent, agency_user
):
    url = reverse("report", args=[name])
    for user in (supervisor, root):
        client.force_login(user)
        assert client.get(url).status_code == 200
        assert client.get(reverse("reports")).status_code == 200
    for user in (agent, agency_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(reverse("reports")).status_code == 403


def test_the_admin_index_links_the_reports_for_those_who_may_read_them(client, supervisor, agent):
    link = f'href="{reverse("reports")}"'
    client.force_login(supervisor)
    assert link in client.get(reverse("admin:index"), follow=True).content.decode()  # by way of the dashboard
    index = client.get(reverse("reports")).content.decode()
    assert all(reverse("report", args=[name]) in index for name in REPORTS)
    client.force_login(agent)
    assert link not in client.get(reverse("admin:index")).content.decode()


def test_an_unknown_report_is_not_found(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/admin/reports/nonsense/").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date": "2026-13-01"}, "date: “2026-13-01” is not a date; write it as YYYY-MM-DD."),
        ({"product": "abc"}, "product: there is none numbered “abc”."),
        ({"product": "999999"}, "product: there is none numbered “999999”."),
        ({"team": "1;drop"}, "team: there is none numbered “1;drop”."),
        ({"group_by": "password"}, "breakdown by: “password” is not one of the choices."),
        ({"format": "pdf"}, "format: “pdf” is not one of page, csv or xlsx."),
    ],
)
def test_a_bad_filter_is_a_form_error_naming_the_field_and_the_value(client, supervisor, query, message):
    client.force_login(supervisor)
    response = client.get(reverse("report", args=["inventory"]), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="errorlist' in html
    assert 'id="table-by-bucket"' not in html


def test_a_bad_month_or_range_is_refused_with_its_value(client, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("report", args=["flow-rates"]), {"month": "2026-11-31"}).content.decode()
    assert "month: “2026-11-31” is not a month; write it as YYYY-MM." in html
    html = client.get(
        reverse("report", args=["entry-rate"]), {"from": "2026-11-02", "to": "2026-11-01"}
    ).content.decode()
    assert "to: 2026-11-01 is before from (2026-11-02)." in html


def test_the_filters_stay_in_the_url_and_in_the_export_links(client, supervisor, product):
    client.force_login(supervisor)
    html = client.get(reverse("report", args=["inventory"]), {"date": "2026-11-30", "product": product.pk}).content
    html = html.decode()
    assert 'value="2026-11-30"' in html
    assert f'<option value="{product.pk}" selected>' in html
    assert f"?date=2026-11-30&amp;product={product.pk}&amp;format=xlsx" in html


@pytest.fixture
def hostile_names(product):
    """A product and a team whose names a spreadsheet would run as formulas."""
    evil = ProductFactory(code="evil", name="=1+1")
    team = Team.objects.create(name="@SUM(A1)", stage="reminder")
    for item, team_id in ((evil, team.pk), (product, 0)):
        LineDay.objects.create(
            as_of=NOV_30,
            product_id=item.pk,
            policy_id=item.policy_id,
            bucket="M1",
            stage="reminder",
            team_id=team_id,
            agency_id=0,
            lines=2,
            principal_fen=10_000,
            overdue_fen=1_234,
        )
    return evil, team


def test_the_csv_writes_formulas_as_text_under_the_filters(client, supervisor, hostile_names):
    client.force_login(supervisor)
    response = client.get(reverse("report", args=["inventory"]), {"date": "2026-11-30", "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="inventory-2026-11-30.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").removeprefix("\ufeff"))))
    assert rows[0][0] == "Report"
    assert rows[1] == ["date", "2026-11-30"]
    assert rows[2] == ["product", "All"]
    # The breakdown's row: lines, then the overdue amount of M0 and M1 in yuan.
    assert rows[[r[:1] for r in rows].index(["'=1+1 (evil)"])][:4] == ["'=1+1 (evil)", "2", "0.00", "12.34"]
    response = client.get(
        reverse("report", args=["inventory"]), {"date": "2026-11-30", "group_by": "team_id", "format": "csv"}
    )
    text = response.content.decode("utf-8")
    assert "\n'@SUM(A1)," in text.replace("\r\n", "\n")


def test_the_xlsx_keeps_formulas_as_strings_and_numbers_as_numbers(client, supervisor, hostile_names):
    client.force_login(supervisor)
    query = {"date": "2026-11-30", "group_by": "team_id", "format": "xlsx"}
    response = client.get(reverse("report", args=["inventory"]), query)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert cells["@SUM(A1)"].data_type == "s"
    assert [c.value for c in sheet[2]][:2] == ["date", "2026-11-30"]
    response = client.get(reverse("report", args=["inventory"]), {**query, "group_by": "product_id"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    evil = next(cell for row in sheet.iter_rows() for cell in row if cell.value == "=1+1 (evil)")
    assert evil.data_type == "s"
    overdue = sheet.cell(row=evil.row, column=4).value
    assert str(overdue) == "12.34"


def test_the_entry_rate_takes_a_fixed_number_of_queries_whatever_the_range(
    client, supervisor, product, django_assert_max_num_queries
):
    for offset in range(60):
        EntryObservation.objects.create(
            due_on=NOV_30 - datetime.timedelta(days=offset),
            days_after=1,
            product_id=product.pk,
            repeat=False,
            bills=1,
            due_fen=1000,
            unpaid_fen=100,
        )
    client.force_login(supervisor)
    url = reverse("report", args=["entry-rate"])
    counts = []
    for first in ("2026-11-30", "2026-10-01"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"from": first, "to": "2026-11-30"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(10):
        client.get(url, {"from": "2026-01-01", "to": "2026-11-30", "product": product.pk})


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_report_takes_at_most_ten_queries(client, supervisor, name, django_assert_max_num_queries):
    client.force_login(supervisor)
    client.get(reverse("report", args=[name]))
    with django_assert_max_num_queries(10):
        client.get(reverse("report", args=[name]))


def test_the_case_list_bucket_filter_keeps_exactly_the_cases_in_the_bucket(client, supervisor, run_dunning):
    fifty_days = overdue_line(due=datetime.date(2026, 1, 10))
    ninety_days = overdue_line(due=datetime.date(2025, 12, 1))
    run_dunning(datetime.date(2026, 3, 1))
    client.force_login(supervisor)
    listed = {}
    for bucket in ("M2", "M3", "M7"):
        response = client.get(reverse("admin:cases_case_changelist"), {"bucket": bucket})
        assert response.status_code == 200
        listed[bucket] = {case.credit_line_id for case in response.context["cl"].result_list}
    assert listed == {"M2": {fifty_days.pk}, "M3": {ninety_days.pk}, "M7": set()}
    assert Case.objects.get(credit_line=ninety_days).days_past_due == 90


def test_the_reports_speak_chinese_with_the_fields_own_names(client, supervisor):
    client.force_login(supervisor)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    index = client.get(reverse("reports"), **chinese).content.decode()
    assert all(name in index for name in ("存量/账龄分布", "入催率", "迁徙率", "账龄分析"))
    flow = client.get(reverse("report", args=["flow-rates"]), {"month": "2026-11"}, **chinese).content.decode()
    assert "累计迁徙乘数" in flow
    assert "T 月前一月末处于账龄 A 的剩余本金" in flow
    bad = client.get(reverse("report", args=["inventory"]), {"date": "x"}, **chinese).content.decode()
    assert "日期：“x”不是日期，请按 YYYY-MM-DD 填写。" in bad


def test_the_entry_rate_page_greys_what_is_not_ripe_and_the_vintage_page_draws_its_triangle(
    client, supervisor, product
):
    EntryObservation.objects.create(
        due_on=NOV_30, days_after=1, product_id=product.pk, repeat=True, bills=2, due_fen=20_000, unpaid_fen=5_000
    )
    client.force_login(supervisor)
    html = client.get(reverse("report", args=["entry-rate"]), {"from": "2026-11-30", "to": "2026-11-30"}).content
    html = html.decode()
    assert '<td class="number">25.00%</td>' in html
    # DPD4, 8 and 31 are greyed in the day's row, the total and the product's row.
    assert html.count('<td class="not-ripe">') == 3 * 3
    assert html.count("not yet ripe</") == 3 * 3
    assert 'id="entry-rate-chart-data" type="application/json"' in html
    html = client.get(reverse("report", args=["vintage"]), {"month": "2026-11"}).content.decode()
    assert 'id="table-over-30"' in html
    assert 'id="table-over-60"' in html


def test_the_case_lists_buckets_agree_with_the_reports_buckets():
    uppers = dict(BUCKET_UPPER_DPD)
    for name, (low, high) in MONTH_BUCKET_RANGES.items():
        previous = f"M{int(name[1:]) - 1}"
        assert low == uppers[previous] + 1
        assert high == uppers.get(name)
