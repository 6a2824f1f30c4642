"""Edits of a model's fields as proposed changes: the values as text, the proposal, and the edit applied.

Values travel as each field's own text form (``value_to_string``: a foreign key as its id, a time as
``08:00:00``) so that the proposal's JSON holds exactly what the field will be given back.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from backoffice.kernel.approvals.kinds import Values
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


def edit_apply(*, obj: models.Model, values: Values) -> models.Model:
    """Give the object the proposed values, check it as a whole and save it."""
    for name, value in values.items():
        field = obj._meta.get_field(name)
        setattr(obj, field.attname, field.to_python(value) if value is not None else None)
    obj.full_clean()
    obj.save()
    return obj
