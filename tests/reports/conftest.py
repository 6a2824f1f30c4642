import pytest

from backoffice.kernel.roles import AGENCY
from backoffice.reports.forms import ReportFilterForm
from backoffice.reports.registry import REPORTS
from tests.factories import ProductFactory, user_in


@pytest.fixture
def agency_user(db):
    return user_in(AGENCY, "agency-r")


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def built():
    """Build a report from query-string values, as its page does."""

    def build(name: str, **query: str):
        form = ReportFilterForm(query, filters=REPORTS[name].filters)
        assert form.is_valid(), form.errors
        result = REPORTS[name].build(form.filters())
        return {table.key: table for table in result.tables}, result

    return build
