"""Long lists count only so far, and say so: never an exact-looking number that is not exact."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from backoffice.kernel.pagination import LargeTablePaginator
from cases.admin.casework import CaseAdmin
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_cases(run_dunning):
    for _ in range(3):
        overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 1))


def paginator_line(client) -> str:
    page = client.get(reverse("admin:cases_case_changelist") + "?stage__exact=collection").content.decode()
    return " ".join(page[page.index('class="paginator"') :].split("</p>")[0].split())


def test_a_count_that_reaches_the_cap_says_more_than_the_cap(client, three_cases, supervisor, monkeypatch):
    client.force_login(supervisor)
    assert "3 cases" in paginator_line(client)
    monkeypatch.setattr(LargeTablePaginator, "cap", 2)
    line = paginator_line(client)
    assert "more than 2" in line
    assert "3" not in line.split("more than")[1].split("cases")[0]


def test_no_part_of_a_capped_list_shows_the_capped_count_as_exact(client, three_cases, supervisor, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "cap", 2)
    monkeypatch.setattr(CaseAdmin, "list_per_page", 1)  # more rows than a page, as in any capped list
    client.force_login(supervisor)
    page = " ".join(
        client.get(reverse("admin:cases_case_changelist") + "?stage__exact=collection").content.decode().split()
    )
    assert "more than 2 results" in page  # the search bar
    assert "Select all matching cases (more than 2)" in page  # the actions bar
    assert "All matching cases selected (more than 2)" in page
    for exact_looking in ("3 results", "Select all 3", "All 3 selected", "3 cases"):
        assert exact_looking not in page


def test_an_unfiltered_list_on_postgresql_says_its_count_is_an_estimate(
    on_postgres, client, three_cases, supervisor, monkeypatch
):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    monkeypatch.setattr(LargeTablePaginator, "cap", 2)
    client.force_login(supervisor)
    page = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert "about 3" in " ".join(page[page.index('class="paginator"') :].split("</p>")[0].split())
