"""The API's one renderer: JSON (no browsable HTML pages), with error rows fit to echo."""

from rest_framework.renderers import JSONRenderer

from backoffice.kernel.api.auth import may_see_full_numbers
from backoffice.kernel.api.echo import errors_cleaned


class ApiJSONRenderer(JSONRenderer):
    """Render JSON; an error answer's echoed values are cut short and its personal numbers masked for the caller."""

    def render(
        self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None
    ) -> bytes:
        """Render ``data``, its error rows cleaned for the request's caller."""
        request = (renderer_context or {}).get("request")
        if request is not None and isinstance(data, dict) and "errors" in data:
            data = errors_cleaned(data, full_numbers=may_see_full_numbers(request))
        return super().render(data, accepted_media_type, renderer_context)
