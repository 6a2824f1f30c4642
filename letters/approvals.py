"""Activating a letter template version waits for a second legal reviewer, other than the version's author.

Registered with the kernel's kinds of change when the app is ready; the approval applies the change
through ``template_activate``, which checks the version again (elements, prohibited phrases).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from letters.models import LetterTemplate
from letters.services import TEMPLATE_ACTIVATE, template_activate

_SHOWN = ("version", "name", "firm", "body_html", "print_css")


def _wording(template: LetterTemplate | None) -> Values:
    if template is None:
        return dict.fromkeys(_SHOWN)
    return {
        "version": template.version,
        "name": template.name,
        "firm": str(template.firm) if template.firm_id else None,
        "body_html": template.body_html,
        "print_css": template.print_css,
    }


def _in_use(template: LetterTemplate) -> LetterTemplate | None:
    rows = LetterTemplate.objects.select_related("firm").filter(code=template.code, language=template.language)
    return rows.filter(is_active=True).first()


def _current(template: LetterTemplate | None) -> Values:
    """The version in use for the template's code and language: what activating replaces."""
    return _wording(_in_use(template) if template is not None else None)


def _state(template: LetterTemplate | None) -> Values:
    """The version in use and the version proposed, as they stand: either moving makes the proposal stale."""
    in_use = _in_use(template) if template is not None else None
    return {"in_use": in_use.pk if in_use else None, "replaced": _wording(in_use), "proposed": _wording(template)}


def _apply(template: LetterTemplate, proposal: ChangeProposal, actor: AbstractBaseUser) -> LetterTemplate:
    return template_activate(template=template, actor=actor, proposal=proposal)


def _authors(template: LetterTemplate | None) -> set[int]:
    return {template.created_by_id} if template is not None and template.created_by_id else set()


def template_activation_propose(*, template: LetterTemplate, actor: AbstractBaseUser, note: str = "") -> ChangeProposal:
    """Propose putting this version in use; a legal reviewer other than its author approves it."""
    return change_propose(kind=TEMPLATE_ACTIVATE, target=template, proposed=_wording(template), actor=actor, note=note)


def register_kinds() -> None:
    """Register the letters' kinds of change."""
    register(
        ChangeKind(
            code=TEMPLATE_ACTIVATE,
            label=_("Activate a letter template version"),
            model=LetterTemplate,
            propose_permission="letters.change_lettertemplate",
            approve_permission="letters.change_lettertemplate",
            current=_current,
            state=_state,
            apply=_apply,
            authors=_authors,
            labels={
                "version": _("version"),
                "name": _("name"),
                "firm": _("law firm"),
                "body_html": _("body (Django template HTML)"),
                "print_css": _("print CSS"),
            },
        )
    )
