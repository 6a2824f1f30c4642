"""What is handed to a provider, and what it answers."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (a letter's PDF)."""

    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient, already rendered in the recipient's language.

    ``reference`` is our own id for the message: providers carry it (an SMS's ``OutId``, an
    e-mail's header, a push's id) so that a receipt finds its message even before the provider's
    id is stored. ``template_code`` and ``params`` are for providers that send only texts they
    approved (SMS in mainland China); ``text`` is then the approved text with the params filled.
    """

    channel: str
    reference: str
    to: str
    language: str
    text: str
    subject: str = ""
    template_code: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: its name and its own id for it."""

    provider: str
    provider_message_id: str


class SendFailed(Exception):
    """The provider did not take the message.

    ``permanent``: trying the same message again cannot succeed (an invalid number, a refused
    recipient, a template the provider does not know); otherwise it is retried later.
    """

    def __init__(self, message: str, *, code: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
