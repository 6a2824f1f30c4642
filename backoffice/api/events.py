"""The event feed for systems that poll: ``GET /api/v1/events/?after=<place>``, in the order events were published.

Webhook bodies are the same representation (``events_represent``, named by ``EVENT_REPRESENTATION``).

Each call first publishes what has committed since the last one, so a reader who asks again
with the last place it saw never misses an event whose transaction committed late.
"""

from django.db.models import Max
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import CreditLine
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.events import Event, EventType, events_publish
from cases.casework.numbers import case_number

PAGE = 500


class FeedQuery(serializers.Serializer):
    """Where to read from, and how many."""

    after = serializers.IntegerField(min_value=0, max_value=10**18, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=PAGE, default=PAGE)


EVENT = inline_serializer(
    "Event",
    {
        "event_id": serializers.UUIDField(),
        "place": serializers.IntegerField(help_text="Ask again with ?after= the last place read."),
        "type": serializers.ChoiceField(choices=EventType.choices),
        "occurred_at": serializers.DateTimeField(),
        "case": serializers.CharField(allow_null=True, help_text="The case number."),
        "credit_line": serializers.CharField(allow_null=True, help_text="The line's contract number."),
        "data": serializers.JSONField(),
    },
)


def events_represent(events: list[Event]) -> list[dict]:
    """Return events as the lender reads them, in the feed and in webhook bodies: case and line by their numbers."""
    numbers = dict(
        CreditLine.objects.filter(pk__in={e.credit_line_id for e in events if e.credit_line_id}).values_list(
            "pk", "number"
        )
    )
    return [
        {
            "event_id": str(event.event_id),
            "place": event.position,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "case": case_number(event.case_id) if event.case_id else None,
            "credit_line": numbers.get(event.credit_line_id),
            "data": event.data,
        }
        for event in events
    ]


def _last_place(after: int) -> int:
    # Past the end, the place to ask from is the feed's real last one, not a place no event will ever pass.
    published = Event.objects.filter(position__lte=after).aggregate(last=Max("position"))["last"]
    return published or 0


class EventFeed(APIView):
    """What happened, in order: cases opened and moved, lines frozen, promises judged, letters approved and sent."""

    queryset = Event.objects.none()
    read_scope = Scope.EVENTS_READ

    @extend_schema(
        tags=["events"],
        parameters=[OpenApiParameter("after", int), OpenApiParameter("limit", int)],
        responses={
            200: inline_serializer(
                "EventPage", {"events": serializers.ListField(child=EVENT), "last": serializers.IntegerField()}
            )
        },
    )
    def get(self, request: Request) -> Response:
        """Publish what has committed, then return the events after ``after``."""
        query = FeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        events_publish()
        page = list(
            Event.objects.filter(position__gt=query.validated_data["after"]).order_by("position")[
                : query.validated_data["limit"]
            ]
        )
        events = events_represent(page)
        last = page[-1].position if page else _last_place(query.validated_data["after"])
        return Response({"events": events, "last": last})
