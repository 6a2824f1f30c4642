"""What every answer under ``/api/`` shares: never cached, and an address without its trailing slash taken as is."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import is_valid_path
from django.utils.cache import patch_cache_control, patch_vary_headers

API_PREFIX = "/api/"


class ApiMiddleware:
    """For ``/api/``: answers carry ``Cache-Control: no-store`` and ``Vary: Authorization, Cookie`` (they hold
    personal data and depend on who asks), and ``/api/v1/payments`` is served as ``/api/v1/payments/``.

    Django's ``APPEND_SLASH`` would redirect such a path instead, which a client's POST does not follow
    (and under ``DEBUG`` it is a server error); this runs before ``CommonMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Serve the request; mark the answer of an API request as private to its caller."""
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        _with_trailing_slash(request)
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


def _with_trailing_slash(request: HttpRequest) -> None:
    path = request.path_info
    urlconf = getattr(request, "urlconf", None)
    if not path.endswith("/") and not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
        request.path_info = f"{path}/"
        request.path = f"{request.path}/"
