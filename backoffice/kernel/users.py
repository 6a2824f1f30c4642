"""People and roles: users are deactivated, never deleted, and every change to who may do what is a security
alert (``security_alert``: logged, and mailed to the security contacts once committed).

A superuser can make anyone a second approver by adding them to a group: so a change of groups,
permissions, staff or superuser status, activity or password is logged with who made it (the person
signed in, from simple-history's request context) and who it changed, by ids only.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.people import Deactivation, user_deactivate
from backoffice.kernel.serving import security_alert

# The columns of a user whose change is a change of what the person may do.
_WATCHED = ("is_active", "is_staff", "is_superuser", "password")


def _actor_id() -> int | None:
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _alert(event: str, **fields: object) -> None:
    security_alert(event, actor_id=_actor_id(), **fields)


def _user_before(sender: type, instance: User, **kwargs: object) -> None:
    if instance.pk is None:
        instance._watched_before = None
        return
    before = User.objects.filter(pk=instance.pk).values(*_WATCHED).first()
    instance._watched_before = before


def _user_saved(sender: type, instance: User, created: bool, **kwargs: object) -> None:
    if created:
        _alert("user_created", user_id=instance.pk, is_staff=instance.is_staff, is_superuser=instance.is_superuser)
        return
    before = getattr(instance, "_watched_before", None) or {}
    changed = sorted(name for name in _WATCHED if name in before and before[name] != getattr(instance, name))
    if changed:
        flags = {name: getattr(instance, name) for name in changed if name != "password"}
        _alert("user_changed", user_id=instance.pk, changed=",".join(changed), **flags)


def _groups_changed(sender: type, instance: object, action: str, pk_set: set | None, reverse: bool, **kwargs: object):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # group.user_set changed: instance is the group, pk_set the users
        for user_id in sorted(pk_set or []):
            _alert("user_groups_changed", user_id=user_id, action=action, group_ids=str(instance.pk))
        return
    _alert(
        "user_groups_changed", user_id=instance.pk, action=action, group_ids=",".join(map(str, sorted(pk_set or [])))
    )


def _permissions_changed(sender: type, instance: object, action: str, pk_set: set | None, **kwargs: object):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    whose = "group_id" if isinstance(instance, Group) else "user_id"
    ids = ",".join(map(str, sorted(pk_set or [])))
    _alert("permissions_changed", **{whose: instance.pk}, action=action, permission_ids=ids)


def connect_signals() -> None:
    """Log and alert every change of users, their groups and permissions (called once, when the apps are ready)."""
    pre_save.connect(_user_before, sender=User, dispatch_uid="backoffice.users.before")
    post_save.connect(_user_saved, sender=User, dispatch_uid="backoffice.users.saved")
    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="backoffice.users.groups")
    for through in (User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_permissions_changed, sender=through, dispatch_uid=f"backoffice.users.perms.{through}")


class NeverDeleted:
    """Nobody deletes a user or a role from the admin: history names them (who changed a rule pack, who approved)."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Deleting is off for everyone, superusers included; a user leaving is made inactive."""
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        """Drop "delete selected"."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class PersonForm(UserChangeForm):
    """A user's form, asking why when Active is unticked."""

    deactivation_reason = forms.CharField(
        label=_("reason for deactivating"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when Active is unticked: why the user leaves (kept with who deactivated them)."),
    )

    def clean(self) -> dict:
        """Refuse unticking Active without a reason."""
        cleaned = super().clean()
        if self.deactivating() and not (cleaned.get("deactivation_reason") or "").strip():
            self.add_error("deactivation_reason", _("Say why the user is deactivated."))
        return cleaned

    def deactivating(self) -> bool:
        """Whether this edit unticks Active."""
        return "is_active" in self.changed_data and not self.cleaned_data.get("is_active", True)


class DeactivationInline(admin.TabularInline):
    """Each time the user was deactivated: when, by whom, why."""

    model = Deactivation
    fk_name = "user"
    fields = ["deactivated_at", "deactivated_by", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Written by deactivating, never by hand."""
        return False


class PeopleAdmin(NeverDeleted, DeclaredFiltersOnly, UserAdmin):
    """Users as Django's admin shows them; deactivated (Active unticked, with a reason), never deleted. Filtered by
    the declared filters only, their values checked first (a role's id past the column's range is no match)."""

    form = PersonForm
    inlines = [DeactivationInline]
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    fieldsets = (
        *UserAdmin.fieldsets[:2],
        (
            UserAdmin.fieldsets[2][0],
            {"fields": ("is_active", "deactivation_reason", *UserAdmin.fieldsets[2][1]["fields"][1:])},
        ),
        *UserAdmin.fieldsets[3:],
    )

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        """Save the user; a deactivation keeps its reason and who made it."""
        super().save_model(request, obj, form, change)
        if change and isinstance(form, PersonForm) and form.deactivating():
            user_deactivate(user=obj, actor=request.user, reason=form.cleaned_data["deactivation_reason"])


class RolesAdmin(NeverDeleted, GroupAdmin):
    """The role groups; they are kept by the roles migration and never deleted."""


def register() -> None:
    """Put the users' and groups' screens in place of Django's own."""
    for model, model_admin in ((User, PeopleAdmin), (Group, RolesAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
