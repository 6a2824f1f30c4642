"""What the schema says of every endpoint: the error responses (the one format), the bearer tokens, and the
``Idempotency-Key`` header of every POST."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from backoffice.kernel.api.idempotency import HEADER, KEY_PATTERN, MAX_KEY_LENGTH

ERROR = inline_serializer(
    "Errors",
    {
        "errors": serializers.ListField(
            child=inline_serializer(
                "Error",
                {
                    "index": serializers.IntegerField(allow_null=True, help_text="Row of a bulk request."),
                    "field": serializers.CharField(allow_null=True),
                    "value": serializers.JSONField(allow_null=True, help_text="What was sent for the field."),
                    "code": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        )
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(ERROR, description="Refused: every bad field (and row) named, nothing written."),
    401: OpenApiResponse(ERROR, description="No valid token or session."),
    403: OpenApiResponse(ERROR, description="The token's scopes (or the person's permissions) do not allow it."),
    404: OpenApiResponse(ERROR, description="Not found among what the caller may see."),
    415: OpenApiResponse(ERROR, description="The body is not JSON: the API takes application/json only."),
    429: OpenApiResponse(ERROR, description="Too many requests for this client: retry later."),
}

BODY_RESPONSES = {
    413: OpenApiResponse(ERROR, description="The body is bigger than API_MAX_REQUEST_BYTES: split the request."),
}

IDEMPOTENCY_RESPONSES = {
    409: OpenApiResponse(ERROR, description="The Idempotency-Key's first request is still being processed."),
    422: OpenApiResponse(ERROR, description="The Idempotency-Key was used for another request (another body)."),
}

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique value (a UUID) for this request. Sent again with the same body within "
        "API_IDEMPOTENCY_HOURS (24 by default), it returns the first answer with `Idempotent-Replayed: true` "
        "and does nothing again. Keys are per API client."
    ),
)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes the API clients' tokens: ``Authorization: Bearer <token>``."""

    target_class = "backoffice.kernel.api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        """An HTTP bearer scheme."""
        return {"type": "http", "scheme": "bearer", "description": "An API client's token, shown once in the admin."}


class DocumentedErrorsSchema(AutoSchema):
    """Every operation documents the error answers it can give, in the one format, and every POST its
    ``Idempotency-Key`` (the schema class of the API)."""

    def get_override_parameters(self) -> list:
        """Add the ``Idempotency-Key`` header to every POST."""
        parameters = super().get_override_parameters()
        return [*parameters, IDEMPOTENCY_KEY] if self.method == "POST" else parameters

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        post = {**ERROR_RESPONSES, **BODY_RESPONSES, **IDEMPOTENCY_RESPONSES}
        errors = post if self.method == "POST" else ERROR_RESPONSES
        for code, response in errors.items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return responses
