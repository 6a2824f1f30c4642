"""What the tests of messages to customers share: a real SMTP server on 127.0.0.1."""

from tests.smtp_server import smtp_server  # noqa: F401 - a fixture of these tests
