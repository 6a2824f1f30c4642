"""The public verification page under hostile input and guessing: no server error, no oracle, a shared limit.

Whatever a visitor types as a number and a code, the page answers without a server error, and a wrong
code for a letter that exists is answered exactly as any code for a number that does not. Wrong tries
are counted in the shared cache per number and per address: a number guessed at from 200 addresses is
refused after the limit, to everyone; a visitor behind the proxy locks out only their own address.
"""

import datetime
from urllib.parse import quote

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
MISSING = "LF-2026-999999"
hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "a/b", "../..", "%2F", "\x00", "码\x00", "ＡＢＣＤ１２３４", "é", "x" * 500, "LF-2026-000001"]
    ),
    st.from_regex(r"\A[A-Za-z0-9-]{1,24}\Z"),
)


def visitor(address: str) -> dict[str, str]:
    """The headers of a visitor at ``address``, as the proxy in front passes them on."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": address}


def asked(client, number: str, code: str, address: str = "203.0.113.1"):
    return client.get(reverse("letters:verify", args=[number, code]), **visitor(address))


@given(number=hostile_text, code=hostile_text)
@examples(max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_number_or_code_gets_a_server_error_and_a_wrong_code_answers_as_a_wrong_number(client, letter, number, code):
    cache.clear()
    by_form = client.get("/verify/", {"number": number, "code": code})
    by_address = client.get(f"/verify/{quote(number, safe='')}/{quote(code, safe='')}/")
    assert by_form.status_code < 500
    assert by_address.status_code < 500
    if code.strip().upper() != letter.verification_code:
        cache.clear()
        known = client.get("/verify/", {"number": letter.number, "code": code}, follow=True)
        cache.clear()
        unknown = client.get("/verify/", {"number": MISSING, "code": code}, follow=True)
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content)


def test_blank_slashed_and_non_ascii_input_is_answered_as_not_found(client, letter):
    for query in [
        {"number": "a/b", "code": "c"},
        {"number": "", "code": letter.verification_code},
        {"number": letter.number, "code": ""},
        {"number": " ", "code": " "},
        {"number": letter.number, "code": "码码码码"},
        {"number": MISSING, "code": "码码码码"},
        {"number": letter.number + "\x00", "code": letter.verification_code},
    ]:
        response = client.get("/verify/", query)
        assert response.status_code == 404, query
        assert b'data-state="not_found"' in response.content, query


def test_the_form_leads_to_the_letters_own_address_and_the_right_code_is_shown(client, letter):
    response = client.get("/verify/", {"number": letter.number.lower(), "code": letter.verification_code.lower()})
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("letters:verify", args=[letter.number, letter.verification_code])
    assert b'data-state="not_issued"' in client.get(response.headers["Location"]).content


def test_200_guesses_from_200_addresses_at_one_number_are_refused_after_the_limit(client, letter, settings):
    settings.VERIFY_NUMBER_FAILURES = 5
    statuses = [
        asked(client, letter.number, f"{guess:08X}", f"198.51.{guess // 250}.{guess % 250}").status_code
        for guess in range(200)
    ]
    assert statuses == [404] * 5 + [429] * 195
    # The holder of the letter waits out the cool-off like everyone else, then is answered.
    assert asked(client, letter.number, letter.verification_code, "192.0.2.50").status_code == 429
    with time_machine.travel(
        datetime.datetime.now() + datetime.timedelta(minutes=settings.VERIFY_COOL_OFF_MINUTES + 1)
    ):
        assert asked(client, letter.number, letter.verification_code, "192.0.2.50").status_code == 200


def test_a_number_no_letter_has_is_locked_exactly_as_one_a_letter_has(client, letter, settings):
    settings.VERIFY_NUMBER_FAILURES = 5
    known = [asked(client, letter.number, "GUESS000", f"198.51.100.{n}") for n in range(8)]
    unknown = [asked(client, MISSING, "GUESS000", f"198.51.101.{n}") for n in range(8)]
    assert [(r.status_code, r.content) for r in known] == [(r.status_code, r.content) for r in unknown]


def test_one_visitor_behind_the_proxy_does_not_lock_out_everyone_elses_numbers(client, letter, settings):
    settings.VERIFY_ADDRESS_FAILURES = 20
    guesser = [asked(client, f"LF-2026-{n:06d}", "GUESS000", "203.0.113.7").status_code for n in range(100, 130)]
    assert guesser == [404] * 20 + [429] * 10
    # Everyone reaches the back office through the same proxy, from their own address.
    assert asked(client, letter.number, letter.verification_code, "198.51.100.9").status_code == 200
    assert asked(client, "LF-2026-000200", "GUESS000", "198.51.100.9").status_code == 404


def test_the_right_code_is_not_counted_as_a_failure(client, letter, settings):
    settings.VERIFY_NUMBER_FAILURES = 2
    for _ in range(10):
        assert asked(client, letter.number, letter.verification_code).status_code == 200
