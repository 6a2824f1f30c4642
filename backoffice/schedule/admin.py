"""Beat's schedule in the admin, in place of django-celery-beat's own screens.

Supervisors see every entry; their change of the night's entry (its time, whether it runs) becomes a
change waiting for a second supervisor, and so does anyone's, a superuser's included. The polls are
written back from the settings at each start of beat, so they are shown, never edited. Superusers
manage the other entries and the schedules (crontabs, intervals, solar events, clocked times), except
a schedule that drives the night or a poll: editing that one would change the night without approval.
No bulk actions: django-celery-beat's enable, disable, toggle and run, and delete, act on any entry.
"""

from cron_descriptor import FormatException, MissingFieldException, Options, WrongArgumentException, get_description
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
    cronexp,
)

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.approvals.admin import proposal_response
from backoffice.schedule.entries import (
    NIGHT_TASK,
    crontab_time,
    is_night,
    is_restored_at_start,
    night_values,
    used_by_managed_entry,
)
from backoffice.schedule.services import night_schedule_propose

_NIGHT_READ_ONLY = ["name", "task", "description", "last_run_at", "total_run_count"]

for model in (PeriodicTask, CrontabSchedule, IntervalSchedule, SolarSchedule, ClockedSchedule):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


# cron-descriptor's own catalogues for the admin's two languages; its default is English only.
_CRON_LOCALES = {"zh-hans": "zh_CN"}


def crontab_in_words(crontab: CrontabSchedule) -> str:
    """Return the crontab in words in the active language, 24-hour clock, with its time zone ("在 00:10 Asia/Shanghai")."""
    options = Options()
    options.locale_code = _CRON_LOCALES.get((get_language() or "").lower(), "en_US")
    options.use_24hour_time_format = True
    fields = (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week)
    try:
        words = get_description(" ".join(cronexp(field) for field in fields), options)
    except (FormatException, MissingFieldException, WrongArgumentException):
        return str(crontab)
    return f"{words} {crontab.timezone}"


class NightEntryForm(forms.ModelForm):
    """The night's entry as a supervisor changes it: the time of day, and whether it runs."""

    time = forms.TimeField(
        label=_("time (business time)"),
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M"),
        help_text=_("When the night starts each day, as HH:MM in the back office's time zone."),
    )

    class Meta:
        model = PeriodicTask
        fields = ["enabled"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.crontab_id:
            self.initial.setdefault("time", crontab_time(self.instance))

    def proposed(self) -> dict[str, object]:
        """Return the changed values as the proposal holds them (the time as ``HH:MM``)."""
        values = {"time": self.cleaned_data["time"].strftime("%H:%M"), "enabled": self.cleaned_data["enabled"]}
        current = night_values(self.instance_as_stored)
        return {name: value for name, value in values.items() if current.get(name) != value}

    @property
    def instance_as_stored(self) -> PeriodicTask:
        return PeriodicTask.objects.select_related("crontab").get(pk=self.instance.pk)


class EntryForm(beat_admin.PeriodicTaskForm):
    """django-celery-beat's form, refusing a second entry for the night (it has one, changed by approval)."""

    def clean(self) -> dict:
        """Refuse the night's task on any entry but its own."""
        if "task" not in self.cleaned_data:
            # The task field refused its value (a NUL byte, too long): django-celery-beat's own check would
            # read the missing value and fail; the field's error is the answer.
            return self.cleaned_data
        data = super().clean()
        if data.get("task") == NIGHT_TASK:
            raise ValidationError(
                {"task": _("task %(task)r runs from the night's own entry only.") % {"task": NIGHT_TASK}}
            )
        return data


@admin.register(PeriodicTask)
class ScheduleEntryAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Beat's entries: the night's changed by approval, the polls shown, the rest managed by superusers."""

    form = EntryForm
    fieldsets = [
        (None, {"fields": ["name", "regtask", "task", "enabled", "description"]}),
        (
            _("Schedule"),
            {"fields": ["interval", "crontab", "solar", "clocked", "start_time", "last_run_at", "one_off"]},
        ),
        (_("Arguments"), {"fields": ["args", "kwargs"], "classes": ["collapse"]}),
        (
            _("Execution options"),
            {
                "fields": ["expires", "expire_seconds", "queue", "exchange", "routing_key", "priority", "headers"],
                "classes": ["collapse"],
            },
        ),
    ]
    readonly_fields = ["last_run_at", "total_run_count"]
    list_display = ["name", "task", "when", "enabled", "last_run_at", "changed_how"]
    list_filter = ["enabled"]
    list_select_related = ["interval", "crontab", "solar", "clocked"]
    search_fields = ["name", "task"]
    actions = None

    @admin.display(description=_("when"))
    def when(self, obj: PeriodicTask) -> str:
        """The schedule in words, in the reader's language (a crontab's in its time zone)."""
        return crontab_in_words(obj.crontab) if obj.crontab_id else str(obj.scheduler or "")

    @admin.display(description=_("how it is changed"))
    def changed_how(self, obj: PeriodicTask) -> str:
        """Say who changes the entry, and how."""
        if obj.task == NIGHT_TASK:
            return _("by a supervisor, approved by a second one")
        if is_restored_at_start(obj):
            return _("by the settings, written back at each start of beat")
        return _("by a superuser")

    def get_fieldsets(self, request: HttpRequest, obj: PeriodicTask | None = None) -> list:
        """The night's entry shows its time and whether it runs; any other entry, django-celery-beat's fields."""
        if obj is not None and is_night(obj):
            return [(None, {"fields": ["name", "task", "time", "enabled", "description", "last_run_at"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: PeriodicTask | None = None) -> list[str]:
        """On the night's entry, everything but its time and whether it runs."""
        if obj is not None and is_night(obj):
            return _NIGHT_READ_ONLY
        return super().get_readonly_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: PeriodicTask | None = None, change: bool = False, **kwargs: object):
        """The night's own form for its entry; django-celery-beat's (without the night's task) for the others."""
        if obj is not None and is_night(obj):
            kwargs["form"] = NightEntryForm
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("time (business time)"))
    def time(self, obj: PeriodicTask) -> str:
        """The night's time, for those who see it without changing it."""
        return crontab_time(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Superusers add entries."""
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: PeriodicTask | None = None) -> bool:
        """The night's entry: whoever may change entries (the change waits for approval). The polls: nobody.
        Any other: superusers."""
        if obj is None:
            return super().has_change_permission(request, obj)
        if is_night(obj):
            return super().has_change_permission(request, obj)
        return request.user.is_superuser and not is_restored_at_start(obj)

    def has_delete_permission(self, request: HttpRequest, obj: PeriodicTask | None = None) -> bool:
        """Superusers delete the entries they manage; never the night's or a poll."""
        if obj is not None and (is_night(obj) or is_restored_at_start(obj)):
            return False
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: PeriodicTask, form: forms.ModelForm, change: bool) -> None:
        """Propose a change of the night's entry instead of saving it; save any other entry."""
        if not (change and isinstance(form, NightEntryForm)):
            super().save_model(request, obj, form, change)
            return
        try:
            obj._proposed_change = night_schedule_propose(
                entry=form.instance_as_stored, values=form.proposed(), actor=request.user
            )
        except (ValidationError, PermissionDenied) as exc:
            obj._proposal_refused = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)

    def log_change(self, request: HttpRequest, obj: PeriodicTask, message: object) -> object:
        """Log nothing for a change not made (the proposal is the record)."""
        if _proposal_outcome(obj):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: PeriodicTask) -> HttpResponse:
        """Send the maker to their proposed change, or back to the form with the reason it was refused."""
        if _proposal_outcome(obj):
            return proposal_response(request, obj)
        return super().response_change(request, obj)


def _proposal_outcome(obj: object) -> bool:
    return getattr(obj, "_proposed_change", None) is not None or bool(getattr(obj, "_proposal_refused", None))


class SchedulesOfManagedEntriesAreKept:
    """A schedule driving the night or a poll is neither changed nor deleted here: the night's changes wait
    for approval, the polls' come from the settings. Superusers manage the others."""

    actions = None

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Not a schedule of the night or a poll."""
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not used_by_managed_entry(obj))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Not a schedule of the night or a poll (deleting it would delete the entry)."""
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or not used_by_managed_entry(obj))


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(SchedulesOfManagedEntriesAreKept, beat_admin.CrontabScheduleAdmin):
    """Crontabs; the night's is kept."""


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(SchedulesOfManagedEntriesAreKept, beat_admin.IntervalScheduleAdmin):
    """Intervals; the polls' are kept."""


@admin.register(SolarSchedule)
class SolarScheduleAdmin(SchedulesOfManagedEntriesAreKept, beat_admin.SolarScheduleAdmin):
    """Solar events."""


@admin.register(ClockedSchedule)
class ClockedScheduleAdmin(SchedulesOfManagedEntriesAreKept, beat_admin.ClockedScheduleAdmin):
    """Clocked times."""
