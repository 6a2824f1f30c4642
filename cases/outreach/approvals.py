"""Activating a message template version waits for a second person who may change the wording, not its author.

Registered with the kernel's kinds of change when the app is ready; the approval applies the change
through ``message_template_activate``, which checks the wording again against the phrases in force.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from cases.dunning.models import DunningPolicy
from cases.outreach.models import MessageTemplate, ReminderRule
from cases.outreach.services import (
    CADENCE_FIELDS,
    MESSAGE_TEMPLATE_ACTIVATE,
    REMINDER_CADENCE_CHANGE,
    cadence_sorted,
    message_template_activate,
    reminder_cadence_of,
    reminder_cadence_replace,
)

_SHOWN = ("version", "subject", "body", "provider_template_code")


def _wording(template: MessageTemplate | None) -> Values:
    if template is None:
        return dict.fromkeys(_SHOWN)
    return {name: getattr(template, name) for name in _SHOWN}


def _in_use(template: MessageTemplate | None) -> MessageTemplate | None:
    if template is None:
        return None
    rows = MessageTemplate.objects.filter(code=template.code, channel=template.channel, language=template.language)
    return rows.filter(is_active=True).first()


def _current(template: MessageTemplate | None) -> Values:
    """The version sent now for the template's code, channel and language: what activating replaces."""
    return _wording(_in_use(template))


def _state(template: MessageTemplate | None) -> Values:
    """The version in use and the version proposed, as they stand: either moving makes the proposal stale."""
    in_use = _in_use(template)
    return {"in_use": in_use.pk if in_use else None, "replaced": _wording(in_use), "proposed": _wording(template)}


def _apply(template: MessageTemplate, proposal: ChangeProposal, actor: AbstractBaseUser) -> MessageTemplate:
    return message_template_activate(template=template, actor=actor, proposal=proposal)


def _authors(template: MessageTemplate | None) -> set[int]:
    return {template.created_by_id} if template is not None and template.created_by_id else set()


def message_template_activation_propose(
    *, template: MessageTemplate, actor: AbstractBaseUser, note: str = ""
) -> ChangeProposal:
    """Propose sending this version from now on; someone other than its author and the proposer approves it."""
    return change_propose(
        kind=MESSAGE_TEMPLATE_ACTIVATE, target=template, proposed=_wording(template), actor=actor, note=note
    )


def reminder_cadence_propose(
    *, policy: DunningPolicy, rules: list[dict], actor: AbstractBaseUser, note: str = ""
) -> ChangeProposal:
    """Propose ``rules`` as the policy's whole cadence of reminders; a second supervisor approves it."""
    proposed = {"cadence": cadence_sorted(rules)}
    return change_propose(kind=REMINDER_CADENCE_CHANGE, target=policy, proposed=proposed, actor=actor, note=note)


def _cadence(policy: DunningPolicy | None) -> Values:
    return {"cadence": reminder_cadence_of(policy) if policy is not None else []}


def _cadence_apply(policy: DunningPolicy, proposal: ChangeProposal, actor: AbstractBaseUser) -> list[ReminderRule]:
    return reminder_cadence_replace(policy=policy, rules=proposal.proposed["cadence"], actor=actor, proposal=proposal)


def _cadence_shown(name: str, value: object) -> object:
    """Show each rule as one line: when, stage, channel, days, repeat, template."""
    if name != "cadence" or not isinstance(value, list):
        return value
    return (
        "; ".join(
            " · ".join(str(rule.get(field)) for field in CADENCE_FIELDS if rule.get(field) not in (None, ""))
            for rule in value
        )
        or "—"
    )


def register_kinds() -> None:
    """Register the messages' kinds of change."""
    register(
        ChangeKind(
            code=REMINDER_CADENCE_CHANGE,
            label=_("Change a policy's cadence of reminders"),
            model=DunningPolicy,
            propose_permission="cases.change_dunningpolicy",
            approve_permission="cases.change_dunningpolicy",
            current=_cadence,
            apply=_cadence_apply,
            labels={"cadence": _("cadence of reminders")},
            show=_cadence_shown,
        )
    )
    register(
        ChangeKind(
            code=MESSAGE_TEMPLATE_ACTIVATE,
            label=_("Activate a message template version"),
            model=MessageTemplate,
            propose_permission="cases.change_messagetemplate",
            approve_permission="cases.change_messagetemplate",
            current=_current,
            state=_state,
            apply=_apply,
            authors=_authors,
            labels={
                "version": _("version"),
                "subject": _("subject or title"),
                "body": _("text"),
                "provider_template_code": _("provider's template code"),
            },
        )
    )
