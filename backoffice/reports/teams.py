"""Which team a case is with, as the night's statements join it: its assignee's team for the case's stage."""

from backoffice.kernel.bulksql import values_table
from cases.models import Team


def teams_table() -> tuple[str, list[object]]:
    """Return a derived table of (agent, stage, team): a case's team is its assignee's team for its stage."""
    rows = {}
    for team in Team.objects.prefetch_related("members").order_by("pk"):
        for member in team.members.all():
            rows.setdefault((member.pk, team.stage), team.pk)
    return values_table(
        [("user_id", "bigint"), ("stage", "text"), ("team_id", "bigint")],
        [(user, stage, team) for (user, stage), team in rows.items()],
    )
