"""Login throttling: a username from one address is locked out after ten wrong passwords in a row, for a
cool-off or until a supervisor unlocks it; nobody else is, and the lockout and the unlock are logged by ids."""

import datetime
import json

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from backoffice.kernel.addresses import client_address
from backoffice.kernel.roles import AGENT, SUPERVISOR
from backoffice.kernel.signin.models import SignInFailure
from tests.factories import user_in
from tests.kernel.test_serving import JsonLines

PASSWORD = "pw-123456"
CALL_CENTRE = "203.0.113.10"
HOME = "198.51.100.7"


def sign_in(client: Client, username: str, password: str, address: str = CALL_CENTRE) -> int:
    """Post the login form from an address; return the answer's status."""
    return client.post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address).status_code


def signed_in(client: Client) -> bool:
    """Tell whether the client's session holds a signed-in user."""
    return SESSION_KEY in client.session


@pytest.fixture
def clerk(db):
    return user_in(AGENT, "clerk")


def test_ten_wrong_passwords_for_one_user_from_one_address_refuse_the_right_one(client, clerk):
    statuses = [sign_in(client, "clerk", f"wrong-{n}") for n in range(10)]
    assert statuses == [200] * 9 + [429]  # the tenth failure locks the pair out
    assert sign_in(client, "clerk", PASSWORD) == 429
    assert not signed_in(client)
    # The same user at another address, and a colleague at this one, sign in as usual.
    assert sign_in(Client(), "clerk", PASSWORD, address=HOME) == 302
    user_in(AGENT, "colleague")
    colleague = Client()
    assert sign_in(colleague, "colleague", PASSWORD) == 302
    assert signed_in(colleague)


def test_fifty_wrong_passwords_of_a_call_centre_behind_one_address_lock_out_no_one_else(client, clerk):
    # Fifty failures in a row from one address, five each for ten other names (mistyped, or guessed).
    for n in range(50):
        assert sign_in(client, f"someone-{n % 10}", "wrong") == 200
    assert sign_in(client, "clerk", PASSWORD) == 302
    assert signed_in(client)


def test_fifty_wrong_passwords_for_a_user_from_other_addresses_do_not_lock_them_out_at_their_own(client, clerk):
    for n in range(50):
        assert sign_in(Client(), "clerk", "wrong", address=f"192.0.2.{n + 1}") == 200
    assert sign_in(client, "clerk", PASSWORD) == 302
    assert signed_in(client)


def test_a_success_starts_the_count_again(client, clerk):
    for _round in range(5):
        for n in range(9):
            assert sign_in(client, "clerk", f"wrong-{n}") == 200
        assert sign_in(client, "clerk", PASSWORD) == 302
        client.post("/admin/logout/")
    assert SignInFailure.objects.count() == 0


def test_the_lockout_ends_fifteen_minutes_after_it_began(client, clerk):
    locked_at = datetime.datetime(2026, 5, 4, 9, 30, tzinfo=datetime.UTC)
    with time_machine.travel(locked_at, tick=False):
        for n in range(10):
            sign_in(client, "clerk", f"wrong-{n}")
    # Trying again while locked out does not push the end further away.
    with time_machine.travel(locked_at + datetime.timedelta(minutes=14, seconds=59), tick=False):
        assert sign_in(client, "clerk", PASSWORD) == 429
    with time_machine.travel(locked_at + datetime.timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(client, "clerk", PASSWORD) == 302
        assert signed_in(client)


def test_the_lockout_is_a_security_event_by_user_id_without_the_name_or_address(client, clerk):
    with JsonLines("backoffice.security") as log:
        for n in range(10):
            sign_in(client, "clerk", f"wrong-{n}")
        sign_in(client, "clerk", PASSWORD)
    locked = [line for line in log.lines if line["event"] == "login_locked_out"]
    assert [line["user_id"] for line in locked] == [clerk.pk, clerk.pk]  # the tenth failure, and the refused try
    written = json.dumps(log.lines)
    assert "clerk" not in written
    assert CALL_CENTRE not in written
    assert "wrong-" not in written


def test_the_failures_record_keeps_no_password_or_code(client, clerk):
    sign_in(client, "clerk", "my-secret-guess")
    record = SignInFailure.objects.get()
    assert (record.username, record.ip_address, record.failures_since_start) == ("clerk", CALL_CENTRE, 1)
    assert "my-secret-guess" not in record.post_data


def lock_out(username: str) -> None:
    """Lock a username out at the call centre's address."""
    locked = Client()
    for n in range(10):
        sign_in(locked, username, f"wrong-{n}")


def test_a_supervisor_unlocks_after_a_confirmation_and_the_unlock_is_logged(client, clerk):
    lock_out("clerk")
    boss = user_in(SUPERVISOR, "boss")
    client.force_login(boss)
    failures = client.get("/admin/backoffice/signinfailure/?locked=yes")
    assert failures.status_code == 200
    assert "clerk" in failures.content.decode()
    record = SignInFailure.objects.get()
    assert record.locked_until() == record.attempt_time + datetime.timedelta(minutes=15)
    chosen = {"action": "unlock_selected", "_selected_action": [record.pk]}
    confirmation = client.post("/admin/backoffice/signinfailure/", chosen)
    assert confirmation.status_code == 200
    assert "Unlock these sign-ins?" in confirmation.content.decode()
    assert SignInFailure.objects.count() == 1  # nothing changed before the confirmation
    with JsonLines("backoffice.security") as log:
        done = client.post("/admin/backoffice/signinfailure/", {**chosen, "confirm": "yes"})
    assert done.status_code == 302
    assert SignInFailure.objects.count() == 0
    assert [(line["event"], line["actor_id"], line["user_id"]) for line in log.lines] == [
        ("login_unlocked", boss.pk, clerk.pk)
    ]
    assert sign_in(Client(), "clerk", PASSWORD) == 302


def test_only_supervisors_unlock_not_agents_nor_a_superuser(client, clerk):
    lock_out("clerk")
    record = SignInFailure.objects.get()
    client.force_login(user_in(AGENT, "agent-x"))
    assert client.get("/admin/backoffice/signinfailure/").status_code == 403
    chosen = {"action": "unlock_selected", "_selected_action": [record.pk], "confirm": "yes"}
    assert client.post("/admin/backoffice/signinfailure/", chosen).status_code == 403
    # The superuser (an IT role) sees the list but is offered no unlock, and a posted one does nothing.
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    listing = client.get("/admin/backoffice/signinfailure/")
    assert listing.status_code == 200
    assert "unlock_selected" not in listing.content.decode()
    client.post("/admin/backoffice/signinfailure/", chosen)
    assert SignInFailure.objects.filter(pk=record.pk).exists()
    assert sign_in(Client(), "clerk", PASSWORD) == 429


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    request = rf.post("/admin/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.10")
    assert client_address(request) == "203.0.113.10"  # what the client wrote further left proves nothing
    assert client_address(rf.post("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"  # not through the proxy
    assert client_address(rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk")) == "10.0.0.2"
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_address(request) == "10.0.0.2"


def test_behind_a_proxy_two_offices_are_two_addresses(client, clerk, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    for n in range(10):
        client.post(
            "/admin/login/",
            {"username": "clerk", "password": f"wrong-{n}"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=CALL_CENTRE,
        )
    home = Client().post(
        "/admin/login/",
        {"username": "clerk", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=HOME,
    )
    assert home.status_code == 302
    assert SignInFailure.objects.get().ip_address == CALL_CENTRE
    assert timezone.now() - SignInFailure.objects.get().attempt_time < datetime.timedelta(minutes=1)
