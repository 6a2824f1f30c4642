import datetime

import pytest

from cases.models import Case
from tests.factories import overdue_line


@pytest.fixture
def cases(run_dunning):
    """Three open cases, in agent collection on 1 March 2026, their customers and lines loaded."""
    due = datetime.date(2026, 1, 10)
    lines = [overdue_line(due=due - datetime.timedelta(days=i)) for i in range(3)]
    run_dunning(datetime.date(2026, 3, 1))
    return [Case.objects.with_customer().get(credit_line=line) for line in lines]
