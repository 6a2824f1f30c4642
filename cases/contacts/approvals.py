"""A new version of a language's prohibited phrases waits for a second legal reviewer before it is in force; an
edit of a rule pack (the contact window, the caps) waits for a second supervisor.

The change's target is the version in force when it was proposed; a newer version since makes the
proposal stale. The approval stores the list through ``phrase_list_add``, with its maker as author.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.approvals.edits import edit_kind
from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from cases.contacts.models import ProhibitedPhraseList, RulePack
from cases.contacts.services import phrase_list_add, rule_pack_update

PHRASE_LIST_CHANGE = "phrase_list_change"
RULE_PACK_CHANGE = "rule_pack_change"


def newest_list(language: str) -> ProhibitedPhraseList | None:
    """The language's version in force, if any."""
    return ProhibitedPhraseList.objects.filter(language=language).order_by("-version").first()


def _current(in_force: ProhibitedPhraseList | None) -> Values:
    if in_force is None:
        return {"language": None, "phrases": None}
    return {"language": in_force.language, "phrases": in_force.phrases}


def _state(in_force: ProhibitedPhraseList | None) -> Values:
    """The version in force now: the proposal is stale once another version took its place."""
    if in_force is None:
        return {"in_force": None}
    newest = newest_list(in_force.language)
    return {"in_force": newest.pk if newest else None}


def _apply(in_force: ProhibitedPhraseList | None, proposal: ChangeProposal, actor: AbstractBaseUser):
    values = proposal.proposed
    return phrase_list_add(language=values["language"], phrases=values["phrases"], actor=actor, author=proposal.maker)


def phrase_list_propose(*, language: str, phrases: str, actor: AbstractBaseUser, note: str = "") -> ChangeProposal:
    """Propose the language's next version of prohibited phrases; a second legal reviewer puts it in force."""
    proposed = {"language": language, "phrases": phrases}
    return change_propose(
        kind=PHRASE_LIST_CHANGE, target=newest_list(language), proposed=proposed, actor=actor, note=note
    )


def register_kinds() -> None:
    """Register the phrase lists' and the rule packs' kinds of change."""
    register(
        ChangeKind(
            code=PHRASE_LIST_CHANGE,
            label=_("Put a new prohibited phrase list in force"),
            model=ProhibitedPhraseList,
            propose_permission="cases.add_prohibitedphraselist",
            approve_permission="cases.add_prohibitedphraselist",
            current=_current,
            state=_state,
            apply=_apply,
            labels={"language": _("language"), "phrases": _("phrases, one per line")},
        )
    )
    register(
        edit_kind(
            code=RULE_PACK_CHANGE,
            label=_("Change a rule pack (contact window, caps)"),
            model=RulePack,
            permission="cases.change_rulepack",
            update=lambda obj, **edit: rule_pack_update(pack=obj, **edit),
        )
    )
