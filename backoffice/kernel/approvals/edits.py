"""Edits of a model's fields as proposed changes: the values as text, the proposal, and the edit applied.

Values travel as each field's own text form (``value_to_string``: a foreign key as its id, a time as
``08:00:00``) so that the proposal's JSON holds exactly what the field will be given back.
"""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from backoffice.kernel.approvals.kinds import ChangeKind, Values
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose

# Kept by the model itself, never proposed.
_NEVER = {"id", "created_at", "updated_at"}


def editable_names(obj: models.Model) -> list[str]:
    """Return the names of the fields a person edits on the object."""
    return [
        field.name
        for field in obj._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in _NEVER
    ]


def values_of(obj: models.Model | None, names: list[str] | None = None) -> Values:
    """Return the named fields' values (every editable field by default) in their text form."""
    if obj is None:
        return {}
    names = names if names is not None else editable_names(obj)
    return {name: _text(obj._meta.get_field(name), obj) for name in names}


def _text(field: models.Field, obj: models.Model) -> object:
    # An empty value stays None: the text form of None would be "None".
    return None if field.value_from_object(obj) is None else field.value_to_string(obj)


def edit_propose(
    *, kind: str, obj: models.Model, names: list[str], actor: AbstractBaseUser, note: str = ""
) -> ChangeProposal:
    """Propose the edited fields of ``obj`` (its unsaved new values) against the values stored now."""
    stored = type(obj).objects.get(pk=obj.pk)
    return change_propose(kind=kind, target=stored, proposed=values_of(obj, names), actor=actor, note=note)


def edit_apply(*, obj: models.Model, values: Values, reason: str = "") -> models.Model:
    """Give the object the proposed values, check it as a whole and save it (``reason`` goes to its history)."""
    for name, value in values.items():
        field = obj._meta.get_field(name)
        setattr(obj, field.attname, field.to_python(value) if value is not None else None)
    obj.full_clean()
    if reason:
        obj._change_reason = reason
    obj.save()
    return obj


def _shown(model: type[models.Model]) -> Callable[[str, object], object]:
    """Show a stored text value as the field's choice label or yes / no, where it has one."""

    def show(name: str, value: object) -> object:
        field = model._meta.get_field(name)
        if isinstance(field, models.BooleanField) and value is not None:
            return _("yes") if value == "True" else _("no")
        if field.choices and value is not None:
            return dict(field.flatchoices).get(field.to_python(value), value)
        return value

    return show


def edit_kind(
    *,
    code: str,
    label: str | Promise,
    model: type[models.Model],
    permission: str,
    update: Callable[..., models.Model],
) -> ChangeKind:
    """A kind for edits of a model's fields, proposed and approved by holders of ``permission``.

    ``update(obj=..., values=..., actor=..., reason=...)`` is the app's service that saves the edit;
    any field changed since the proposal (another change approved meanwhile) makes it stale.
    """

    def apply(target: models.Model, proposal: ChangeProposal, actor: AbstractBaseUser) -> models.Model:
        reason = _("Change #%(id)s, proposed by %(maker)s") % {"id": proposal.pk, "maker": proposal.maker}
        return update(obj=target, values=proposal.proposed, actor=actor, reason=reason)

    return ChangeKind(
        code=code,
        label=label,
        model=model,
        propose_permission=permission,
        approve_permission=permission,
        current=values_of,
        apply=apply,
        labels={field.name: field.verbose_name for field in model._meta.concrete_fields},
        show=_shown(model),
    )
