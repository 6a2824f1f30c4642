"""The kinds of change that wait for a second person, each registered by the app that owns the object.

A kind says which model its target is, who may propose and who may approve it, what the target's
values are now, and which of the app's own services applies the change once it is approved. The
kernel knows the kinds only through this registry, so it never imports the apps above it.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.functional import Promise

from backoffice.kernel.approvals.models import ChangeProposal

Values = dict[str, object]


def _nobody(target: models.Model | None) -> set[int]:
    return set()


@dataclass(frozen=True)
class ChangeKind:
    """One kind of sensitive change.

    ``current(target)`` returns the values the change replaces (the diff's "before"); ``state(target)``,
    if given, everything approval must find unchanged (by default the same values); ``apply(target,
    proposal, actor)`` makes the change (``proposal.proposed``) through the app's service, as ``actor`` (the
    approver; ``proposal.maker`` is its author), and returns the object changed; ``authors(target)`` names, by user id, who besides the maker may not approve (the author of a
    version). ``lock(target_id)``, if
    given, locks and returns the target in the order the app's own services lock (by default the
    target's row alone); ``labels`` names the fields on the proposal page, and ``show(name, value)``, if
    given, shows a stored value there (a stage's label rather than its code).
    """

    code: str
    label: str | Promise
    model: type[models.Model]
    propose_permission: str
    approve_permission: str
    current: Callable[[models.Model | None], Values]
    apply: Callable[[models.Model | None, ChangeProposal, AbstractBaseUser], object]
    state: Callable[[models.Model | None], Values] | None = None
    authors: Callable[[models.Model | None], set[int]] = field(default=_nobody)
    labels: dict[str, str | Promise] = field(default_factory=dict)
    lock: Callable[[int | None], models.Model | None] | None = None
    show: Callable[[str, object], object] | None = None

    def fingerprint(self, target: models.Model | None) -> str:
        """Digest everything the change depends on, as it stands now."""
        state = (self.state or self.current)(target)
        text = json.dumps(state, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def shown(self, name: str, value: object) -> object:
        """Return the value as the proposal page shows it."""
        return self.show(name, value) if self.show is not None else value

    def label_of(self, name: str) -> str | Promise:
        """Return the field's label as the proposal page shows it."""
        return self.labels.get(name, name)


_KINDS: dict[str, ChangeKind] = {}


def register(kind: ChangeKind) -> ChangeKind:
    """Add a kind of change (called when its app is ready); registering a code twice keeps the last."""
    _KINDS[kind.code] = kind
    return kind


def kind_of(code: str) -> ChangeKind | None:
    """Return the kind registered under ``code``, or None."""
    return _KINDS.get(code)


def all_kinds() -> list[ChangeKind]:
    """Return every registered kind, by code."""
    return [_KINDS[code] for code in sorted(_KINDS)]
