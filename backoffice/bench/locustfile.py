"""The users of ``manage.py bench_load``, run by locust in its own process (never imported by Django code).

Agents sign in once each and work their queue in the admin: the queue, *Work next case*, the case page,
a contact logged, a promise recorded, thinking between steps. One lending system posts payments in bulk,
1,000 rows a request. The run's settings come from the JSON file named by ``LOAD_CONFIG``; at the end the
figures go to the file it names: each request type's response times, its errors (a 5xx, a timeout, no
answer) and its refusals (a 4xx, or a form shown again with what the rules refused), which are answers.
"""

import datetime
import itertools
import json
import os
import random
import re
from collections import defaultdict

from locust import HttpUser, between, events, task

with open(os.environ["LOAD_CONFIG"], encoding="utf-8") as config_file:
    CONFIG = json.load(config_file)

# The TLS proxy in front of the back office says the request came over HTTPS (make serve's settings).
BEHIND_THE_PROXY = {"X-Forwarded-Proto": "https"}
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CASE_PAGE = re.compile(r"/admin/cases/case/(\d+)/change/$")
_usernames = itertools.cycle(CONFIG["agents"])
_references = itertools.count()
_times: dict[str, list[float]] = defaultdict(list)
_errors: dict[str, int] = defaultdict(int)
_refusals: dict[str, int] = defaultdict(int)


@events.request.add_listener
def _count(name: str, response_time: float, exception: BaseException | None, **_kwargs: object) -> None:
    _times[name].append(response_time)
    if exception is not None:
        _errors[name] += 1


@events.test_stop.add_listener
def _write_figures(**_kwargs: object) -> None:
    figures = {
        name: {"times_ms": times, "errors": _errors[name], "refusals": _refusals[name]}
        for name, times in _times.items()
    }
    with open(CONFIG["report"], "w", encoding="utf-8") as report:
        json.dump(figures, report)


def _judge(response: object, *, done: tuple[int, ...], strict: bool) -> None:
    """Mark a 5xx or no answer as an error; a 4xx, or any status not in ``done``, is a refusal (an answer).

    ``strict``: any status not in ``done`` is an error (an agent who cannot sign in cannot take part).
    """
    status = response.status_code
    if status == 0 or status >= 500 or (strict and status not in done):
        response.failure(f"HTTP {status}: {response.error or response.text[:200]}")
        return
    if status not in done:
        _refusals[response.request_meta["name"]] += 1
    response.success()


class BackOfficeUser(HttpUser):
    """A client on the loopback, talking to the back office as the TLS proxy in front of it would."""

    abstract = True

    def on_start(self) -> None:
        """Send the proxy's header, and the page's own origin (the CSRF check of a form posted over HTTPS)."""
        self.client.headers.update({**BEHIND_THE_PROXY, "Origin": f"https://{self.host.split('://', 1)[-1]}"})

    def call(
        self, method: str, path: str, name: str, done: tuple[int, ...] = (200,), strict: bool = False, **kwargs: object
    ) -> object:
        """Send one request, judged as ``_judge`` says; a request unanswered after the timeout is an error.

        The session's cookies are Secure, which a cookie jar sends over HTTPS only: they are sent here by hand,
        as the browser sends them to the proxy and the proxy passes them on over the loopback.
        """
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.client.cookies)
        if cookies:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Cookie": cookies}
        with self.client.request(
            method,
            path,
            name=name,
            catch_response=True,
            allow_redirects=False,
            timeout=CONFIG["timeout_seconds"],
            **kwargs,
        ) as response:
            _judge(response, done=done, strict=strict)
        return response


class Agent(BackOfficeUser):
    """A collection agent: signs in once, then works the next case of the queue again and again."""

    wait_time = between(CONFIG["think_seconds"] / 3, CONFIG["think_seconds"])

    def on_start(self) -> None:
        """Sign in with the agent's own login."""
        super().on_start()
        form = self.call("GET", "/admin/login/", "sign-in page")
        token = _TOKEN.search(form.text)
        login = {
            "username": next(_usernames),
            "password": CONFIG["password"],
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "next": "/admin/cases/mycase/",
        }
        self.call("POST", "/admin/login/?next=/admin/cases/mycase/", "sign in", done=(302,), strict=True, data=login)

    def _form(self, path: str, name: str) -> str:
        page = self.call("GET", path, name)
        token = _TOKEN.search(page.text)
        return token.group(1) if token else ""

    @task
    def work_a_case(self) -> None:
        """The queue, the next case, a call that ends in a promise, the promise recorded."""
        self.call("GET", "/admin/cases/mycase/", "queue")
        self.wait()
        claimed = self.call("GET", "/admin/cases/mycase/next/", "work next case", done=(302,))
        case = _CASE_PAGE.search(claimed.headers.get("Location", ""))
        if case is None:
            return  # nothing left to work: the queue says so
        case_path = f"/admin/cases/case/{case.group(1)}"
        self.call("GET", f"{case_path}/change/", "case page")
        self.wait()
        contact = {
            "channel": "call",
            "direction": "outbound",
            "party": "customer",
            "outcome": "promise",
            "identity_disclosed": "on",
            "notes": "客户承诺下周一还款",
            "csrfmiddlewaretoken": self._form(f"{case_path}/contact/", "contact form"),
        }
        self.wait()
        self.call("POST", f"{case_path}/contact/", "log a contact", done=(302,), data=contact)
        promise = {
            "amount": f"{random.randint(100, 900)}.00",
            "due_date": (datetime.date.today() + datetime.timedelta(days=5)).isoformat(),
            "csrfmiddlewaretoken": self._form(f"{case_path}/promise/", "promise form"),
        }
        self.wait()
        self.call("POST", f"{case_path}/promise/", "record a promise", done=(302,), data=promise)


class LendingSystem(BackOfficeUser):
    """The core lending system: payments in bulk through the API, 1,000 rows a request."""

    fixed_count = 1
    wait_time = between(0.5, 1.5)

    @task
    def post_payments(self) -> None:
        """Post 1,000 payments over lines of the portfolio, each with a reference of its own.

        A yuan each: runs after runs leave every case open, so a later run reuses the portfolio.
        """
        received = datetime.datetime.now(datetime.UTC).isoformat()
        rows = [
            {
                "credit_line": random.choice(CONFIG["credit_lines"]),
                "external_reference": f"{CONFIG['reference_prefix']}-{next(_references):09d}",
                "amount": "1.00",
                "channel": "alipay",
                "received_at": received,
            }
            for _ in range(CONFIG["rows_per_request"])
        ]
        headers = {"Authorization": f"Bearer {CONFIG['token']}"}
        self.call("POST", "/api/v1/payments/", "post payments", done=(200, 201), json=rows, headers=headers)
