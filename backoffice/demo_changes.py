"""The demo's changes waiting for a second person, so that the queue has something in it after ``make run``.

``legal1`` has proposed new wording of the overdue SMS (``legal2`` may approve it), ``supervisor1`` has
proposed closing a case whose customer died and tightening the Chinese rule pack's attempt cap
(``supervisor2`` may approve them).
"""

from django.contrib.auth.models import User

from backoffice.kernel.approvals.edits import edit_propose
from backoffice.kernel.approvals.models import ChangeProposal
from cases.casework.approvals import CASE_CLOSE, case_close_propose
from cases.choices import Stage
from cases.contacts.approvals import RULE_PACK_CHANGE
from cases.models import Case, MessageTemplate, RulePack
from cases.outreach.approvals import MESSAGE_TEMPLATE_ACTIVATE, message_template_activation_propose
from cases.outreach.services import message_template_save

_SMS_WORDING = "{name}您好，您的合同{contract}已逾期{days_past_due}天，请通过{pay_to}尽快还款，如有疑问请回电。"


def _sms_draft(author: User) -> MessageTemplate:
    """The next version of the Chinese overdue SMS, written by ``author`` (the one left by an earlier seed, if any)."""
    versions = MessageTemplate.objects.filter(code="overdue", channel="sms", language="zh-hans")
    draft = versions.filter(is_active=False, activated_at__isnull=True, created_by=author).order_by("-version").first()
    if draft is not None:
        return draft
    draft = versions.get(is_active=True)
    draft.body = _SMS_WORDING
    return message_template_save(template=draft, actor=author)


def _waiting(kind: str, target: object) -> bool:
    return ChangeProposal.objects.pending().for_target(kind, target.pk).exists()


def demo_changes() -> int:
    """Leave changes waiting for a second person: an SMS wording, a case closure and a rule pack's cap.

    A change an earlier seed left waiting is kept as it is; return how many were proposed now.
    """
    legal, supervisor = User.objects.get(username="legal1"), User.objects.get(username="supervisor1")
    proposed = 0
    draft = _sms_draft(legal)
    if not _waiting(MESSAGE_TEMPLATE_ACTIVATE, draft):
        message_template_activation_propose(template=draft, actor=legal)
        proposed += 1
    unplaced = Case.objects.open().filter(agency__isnull=True).exclude(stage=Stage.ON_HOLD)
    case = unplaced.filter(stage=Stage.COLLECTION).order_by("id").first() or unplaced.order_by("id").first()
    if case is not None and not _waiting(CASE_CLOSE, case):
        case_close_propose(case=case, actor=supervisor, reason="客户身故，家属已提供死亡证明及户籍注销证明。")
        proposed += 1
    pack = RulePack.objects.get(code="cn-default")
    if not _waiting(RULE_PACK_CHANGE, pack):
        pack.daily_attempt_cap = max(pack.daily_attempt_cap - 1, 1)
        note = "降低每日拨打次数，减少投诉。"
        edit_propose(kind=RULE_PACK_CHANGE, obj=pack, names=["daily_attempt_cap"], actor=supervisor, note=note)
        proposed += 1
    return proposed
