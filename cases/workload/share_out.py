"""Automatic assignment: new and escalated cases go to the team for their stage, under a workload cap.

After each dunning run, for each team: the in-house open cases of the team's stage that have
nobody, or whose assignee is not in the team and that this run moved into the stage, are shared
out, highest priority first, each to the team member holding the fewest open cases, while that
member is under the team's cap. Cases placed with an agency are the agency's, and stay out.
"""

import heapq
from itertools import islice

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from cases.casework.models import Case, CaseTransition
from cases.dunning.models import DunningRun
from cases.workload.models import CaseAssignment, Team

_CHUNK = 5_000


def _loads(member_ids: list[int]) -> dict[int, int]:
    rows = Case.objects.open().filter(assignee_id__in=member_ids).values_list("assignee_id").annotate(n=Count("id"))
    return dict.fromkeys(member_ids, 0) | dict(rows)


def _candidates(team: Team, member_ids: list[int], run: DunningRun | None, room: int) -> list[tuple[int, int | None]]:
    moved_here = Exists(CaseTransition.objects.filter(case=OuterRef("pk"), run=run, to_stage=team.stage))
    unowned = Q(assignee__isnull=True)
    if run is not None:
        unowned |= ~Q(assignee_id__in=member_ids) & Q(moved_here)
    cases = Case.objects.filter(stage=team.stage, agency__isnull=True).filter(unowned)
    ranked = cases.in_queue_order().values_list("id", "assignee_id")
    return list(ranked[:room])


def _share_out(candidates: list[tuple[int, int | None]], loads: dict[int, int], cap: int) -> dict[int, list]:
    heap = [(load, member) for member, load in loads.items() if load < cap]
    heapq.heapify(heap)
    given: dict[int, list] = {}
    for case_id, previous in candidates:
        if not heap:
            break
        load, member = heapq.heappop(heap)
        given.setdefault(member, []).append((case_id, previous))
        if load + 1 < cap:
            heapq.heappush(heap, (load + 1, member))
    return given


def _write(given: dict[int, list], member_ids: list[int]) -> int:
    done = 0
    for member, pairs in given.items():
        iterator = iter(pairs)
        while chunk := list(islice(iterator, _CHUNK)):
            ids = [case_id for case_id, _previous in chunk]
            # Leave alone a case someone assigned to a team member or placed with an agency meanwhile.
            still = Case.objects.select_for_update().filter(pk__in=ids, agency__isnull=True)
            still = still.filter(Q(assignee__isnull=True) | ~Q(assignee_id__in=member_ids))
            changed = dict(still.values_list("id", "assignee_id"))
            Case.objects.filter(pk__in=list(changed)).update(
                assignee_id=member, claimed_by=None, claimed_until=None, changed_at=timezone.now()
            )
            CaseAssignment.objects.bulk_create(
                CaseAssignment(case_id=case_id, assigned_from_id=previous, assigned_to_id=member, actor=None)
                for case_id, previous in changed.items()
            )
            done += len(changed)
    return done


def assign_by_teams(*, run: DunningRun | None = None) -> int:
    """Share out the unassigned (and, with ``run``, the just-escalated) cases among the stage teams.

    Return how many cases were assigned. Every assignment writes its ``CaseAssignment`` row.
    """
    assigned = 0
    for team in Team.objects.prefetch_related("members").order_by("stage", "name"):
        member_ids = sorted(member.pk for member in team.members.all() if member.is_active)
        if not member_ids:
            continue
        loads = _loads(member_ids)
        room = sum(max(team.workload_cap - load, 0) for load in loads.values())
        if room == 0:
            continue
        with transaction.atomic():
            candidates = _candidates(team, member_ids, run, room)
            assigned += _write(_share_out(candidates, loads, team.workload_cap), member_ids)
    return assigned
