"""Every write to letters: templates, drafting, rendering, approval, rejection, dispatch."""

import datetime
import logging
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ANONYMISED
from accounts.positions import line_balance
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_being_applied
from backoffice.kernel.events import EventType, event_record, events_record
from backoffice.kernel.money import format_yuan
from cases.choices import OPEN_STAGES, Stage
from cases.contacts.rules import prohibited_in
from cases.models import Case, CaseTransition, DunningPolicy, ProhibitedPhraseList
from letters.choices import IN_FLIGHT_STATUSES, LetterKind, LetterLanguage, LetterStatus
from letters.documents import build_snapshot, render_html, sample_snapshot, visible_text
from letters.models import Lawyer, Letter, LetterCounter, LetterTemplate
from letters.render_queue import letters_render_enqueue, letters_render_enqueue_on_commit, waiting_to_render
from letters.rendering import render_pdf, sha256_of

logger = logging.getLogger(__name__)

# What a template must show, by kind, as paths into the sample snapshot (compliance.md, "What a
# lawyer letter must contain").
_COMMON = [
    ("letter", "number"),
    ("letter", "date"),
    ("letter", "deadline"),
    ("letter", "verification_code"),
    ("addressee", "name"),
    ("addressee", "address"),
    ("creditor", "name"),
    ("creditor", "payment_account"),
    ("creditor", "dispute_contact"),
    ("debt", "contract_number"),
    ("debt", "product"),
    ("amounts", "principal"),
    ("amounts", "interest"),
    ("amounts", "fees"),
    ("amounts", "paid"),
    ("amounts", "total"),
    ("amounts", "overdue_since"),
]
REQUIRED_ELEMENTS = {
    LetterKind.REMINDER_NOTICE: _COMMON,
    LetterKind.LAWYER_LETTER: [
        *_COMMON,
        ("firm", "name"),
        ("firm", "address"),
        ("firm", "licence_number"),
        ("firm", "engagement_reference"),
        ("lawyer", "name"),
        ("lawyer", "licence_number"),
    ],
}


def template_problems(template: LetterTemplate) -> list[str]:
    """Return what stops the template from being used: missing elements, prohibited phrases, a missing firm."""
    problems = []
    if template.kind == LetterKind.LAWYER_LETTER and template.firm_id is None:
        problems.append(_("A lawyer letter template needs the law firm that issues it."))
    try:
        text = visible_text(render_html(template, sample_snapshot(template)))
    except Exception as exc:
        return [*problems, _("The template does not render: %(error)s") % {"error": exc}]
    sample = sample_snapshot(template)
    for section, field in REQUIRED_ELEMENTS[template.kind]:
        if str(sample[section][field]) not in text:
            problems.append(_("Required element missing: %(element)s.") % {"element": f"{section}.{field}"})
    phrases = ProhibitedPhraseList.objects.in_force(template.language)
    for phrase in dict.fromkeys(prohibited_in(text, phrases) + prohibited_in(template.body_html, phrases)):
        problems.append(_("Prohibited phrase: %(phrase)r.") % {"phrase": phrase})
    return problems


# The kind of change that activates a version (``letters.approvals``).
TEMPLATE_ACTIVATE = "letter_template_activate"


def template_activate(
    *, template: LetterTemplate, actor: AbstractBaseUser | None, proposal: ChangeProposal | None = None
) -> LetterTemplate:
    """Make this version the one in use for its code in its language, if nothing is missing or prohibited.

    Four eyes: a person activates a version only by approving its proposed activation (``proposal``,
    passed by the approval), and never one they wrote; the system, shipping templates, needs none.
    """
    if actor is not None and not actor.has_perm("letters.change_lettertemplate"):
        raise PermissionDenied(_("You are not allowed to activate letter templates."))
    if actor is not None and template.created_by_id == actor.pk:
        raise PermissionDenied(_("You wrote %(template)s: someone else must activate it.") % {"template": template})
    if actor is not None:
        change_being_applied(proposal=proposal, kind=TEMPLATE_ACTIVATE, target=template, actor=actor)
    problems = template_problems(template)
    if problems:
        raise ValidationError({"body_html": problems})
    with transaction.atomic():
        LetterTemplate.objects.filter(code=template.code, language=template.language, is_active=True).exclude(
            pk=template.pk
        ).update(is_active=False)
        LetterTemplate.objects.filter(pk=template.pk).update(is_active=True)
    template.is_active = True
    return template


def template_save(*, template: LetterTemplate, actor: AbstractBaseUser | None) -> LetterTemplate:
    """Save edits; a version in use or used by some letter is kept as it was and the edits become a new, inactive
    version, which a second legal reviewer must approve activating (``letters.approvals``).
    """
    stored = LetterTemplate.objects.filter(pk=template.pk).values_list("is_active", flat=True).first()
    kept = template.pk and (stored or Letter.objects.filter(template_id=template.pk).exists())
    if kept:
        latest = LetterTemplate.objects.filter(code=template.code, language=template.language).order_by("-version")
        template.pk, template.id = None, None
        template.version = (latest.values_list("version", flat=True).first() or 0) + 1
        template.is_active, template.created_by = False, actor
    elif template.pk is None or actor is not None:
        # Whoever last wrote the wording is its author: someone else approves activating it.
        template.created_by = actor
    template.full_clean(exclude=["is_active"])
    template.save()
    return template


def _next_number(year: int) -> str:
    # The counter row stays locked until the drafting transaction ends, so two drafts never get
    # the same number, and a draft that rolls back gives its number back: no gaps.
    LetterCounter.objects.get_or_create(year=year)
    counter = LetterCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"LF-{year}-{counter.last_number:06d}"


def _refuse_if_not_lettered(case: Case) -> None:
    if case.stage not in OPEN_STAGES or case.stage == Stage.ON_HOLD:
        raise ValidationError(
            _("Case %(number)s is %(stage)s: no letter can be drafted for it.")
            % {"number": case.number, "stage": case.get_stage_display()}
        )


def _signing_lawyer(template: LetterTemplate) -> Lawyer | None:
    if template.kind != LetterKind.LAWYER_LETTER:
        return None
    lawyer = template.firm.lawyers.order_by("id").first()
    if lawyer is None:
        raise ValidationError(_("Law firm %(firm)s has no lawyer to sign the letter.") % {"firm": template.firm})
    return lawyer


def _refuse_if_a_letter_waits(case: Case) -> None:
    waiting = Letter.objects.filter(case=case, status__in=IN_FLIGHT_STATUSES).order_by("requested_at").first()
    if waiting is not None:
        raise ValidationError(
            _(
                "Case %(number)s already has letter %(letter)s (%(status)s): it must be sent, rejected or "
                "cancelled before another letter is requested."
            )
            % {"number": case.number, "letter": waiting.number, "status": waiting.get_status_display().lower()}
        )


def _refuse_if_nothing_overdue(case: Case, overdue_fen: int, as_of: datetime.date) -> None:
    if overdue_fen <= 0:
        raise ValidationError(
            _("Case %(number)s has nothing overdue on %(date)s (%(amount)s): no letter demands payment of it.")
            % {"number": case.number, "date": as_of, "amount": format_yuan(max(overdue_fen, 0))}
        )


def template_in_language(*, template: LetterTemplate, language: str) -> LetterTemplate:
    """Return the version in use of ``template``'s code in ``language``, or ``template`` itself if there is none."""
    if template.language == language:
        return template
    return (
        LetterTemplate.objects.select_related("firm")
        .filter(code=template.code, language=language, is_active=True)
        .first()
        or template
    )


def letter_draft(
    *,
    case: Case,
    template: LetterTemplate,
    actor: AbstractBaseUser | None,
    render: bool = True,
    as_of: datetime.date | None = None,
    redraft_of: Letter | None = None,
) -> Letter:
    """Take the next letter number and freeze the snapshot; the PDF is rendered once that has committed.

    The letter is written in the customer's preferred language when ``template``'s code has a
    version in use in it, else in ``template``'s. Refused when the case is closed or on hold, when nothing is overdue, and while another letter
    of the case is on its way (drafted, awaiting approval or approved). ``render`` off leaves the
    draft to ``render_letters``; on, it is rendered right after the commit, so rendering never
    holds the year's number counter (every other drafter would wait) and a rollback leaves no file.
    """
    if actor is not None and not actor.has_perm("letters.request_letter"):
        raise PermissionDenied(_("You are not allowed to request letters."))
    _refuse_if_not_lettered(case)
    if not template.is_active:
        raise ValidationError({"template": _("Template %(template)s is not active.") % {"template": template}})
    template = template_in_language(template=template, language=case.credit_line.customer.preferred_language)
    as_of = as_of or timezone.localdate()
    lawyer = _signing_lawyer(template)
    overdue = line_balance(credit_line_id=case.credit_line_id, as_of=as_of).overdue
    _refuse_if_nothing_overdue(case, overdue.total_fen, as_of)
    with transaction.atomic():
        # One drafter per case at a time, so two requests cannot both pass the check below.
        Case.objects.select_for_update().filter(pk=case.pk).exists()
        _refuse_if_a_letter_waits(case)
        number = _next_number(as_of.year)
        code = secrets.token_hex(4).upper()
        snapshot = build_snapshot(
            case=case, template=template, lawyer=lawyer, number=number, code=code, as_of=as_of, overdue=overdue
        )
        letter = Letter(
            number=number,
            verification_code=code,
            case=case,
            template=template,
            kind=template.kind,
            language=template.language,
            firm=template.firm,
            lawyer=lawyer,
            snapshot=snapshot,
            requested_by=actor,
            requested_at=timezone.now(),
            redraft_of=redraft_of,
        )
        # Refused here, before the letter exists, rather than left as a draft that never renders.
        _refuse_prohibited(letter, render_html(template, snapshot))
        letter.save()
        if render:
            transaction.on_commit(lambda: _render_drafted(letter.pk))
    return letter


def _render_drafted(letter_id: int) -> None:
    """Render a letter just drafted: on the ``letters`` queue with a broker, else here, as one counted try."""
    if settings.CELERY_BROKER_URL:
        letters_render_enqueue(letter_ids=[letter_id])
    else:
        letters_render(letter_ids=[letter_id])


def letters_draft_due(*, as_of: datetime.date, batch: int = 500) -> int:
    """Draft (unrendered) the legal-stage letter each policy names, for every legal case without a letter since it
    entered legal; return how many were drafted.

    Idempotent: run again, it finds those letters and drafts nothing, and a night killed before
    drafting is made whole by the next. Cases with another letter on its way are left alone; a case
    refused for another reason (nothing overdue any more) is logged and skipped.
    """
    templates = {
        policy.pk: _policy_template(policy.legal_letter_template)
        for policy in DunningPolicy.objects.exclude(legal_letter_template="")
    }
    templates = {policy_id: template for policy_id, template in templates.items() if template is not None}
    entered_legal = (
        CaseTransition.objects.filter(case=OuterRef("pk"), to_stage=Stage.LEGAL)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    lettered = Letter.objects.filter(case=OuterRef("pk")).filter(
        Q(requested_at__gte=OuterRef("entered_legal")) | Q(status__in=IN_FLIGHT_STATUSES)
    )
    due = (
        Case.objects.filter(stage=Stage.LEGAL, credit_line__product__policy_id__in=list(templates))
        .annotate(entered_legal=Subquery(entered_legal))
        .filter(~Exists(lettered))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    case_ids, drafted = list(due), 0
    for start in range(0, len(case_ids), batch):
        with transaction.atomic():
            letter_ids = []
            for case in Case.objects.filter(pk__in=case_ids[start : start + batch]).with_customer():
                template = templates[case.credit_line.product.policy_id]
                try:
                    with transaction.atomic():
                        letter = letter_draft(case=case, template=template, actor=None, render=False, as_of=as_of)
                except ValidationError as exc:
                    logger.warning("No letter drafted for case %s: %s", case.number, " ".join(exc.messages))
                    continue
                letter_ids.append(letter.pk)
            # With a broker the batch's letters go to the rendering queue once it commits; without one,
            # ``render_letters`` renders them.
            letters_render_enqueue_on_commit(letter_ids)
            drafted += len(letter_ids)
    return drafted


def _policy_template(code: str) -> LetterTemplate | None:
    """Return the version in use of a policy's template code: the Chinese one, else any language's.

    ``letter_draft`` then takes the customer's language instead, where the code has it.
    """
    active = LetterTemplate.objects.select_related("firm").filter(code=code, is_active=True)
    return active.filter(language=LetterLanguage.CHINESE).first() or active.order_by("language").first()


def _refuse_prohibited(letter: Letter, html: str) -> None:
    # PROHIBITED_CONTENT: the phrase list in force today, not the one the template was checked with.
    text = visible_text(html)
    found = prohibited_in(text, ProhibitedPhraseList.objects.in_force(letter.language))
    if found:
        raise ValidationError(
            _("PROHIBITED_CONTENT: letter %(number)s contains %(phrases)s; fix the template or the phrase list.")
            % {"number": letter.number, "phrases": ", ".join(repr(phrase) for phrase in found)},
            code="PROHIBITED_CONTENT",
        )


def letter_render(*, letter: Letter) -> Letter:
    """Render a draft's PDF from its snapshot, store it with its hash and send it for approval."""
    if letter.status not in (LetterStatus.DRAFT, LetterStatus.PENDING_APPROVAL):
        raise ValidationError(
            _("Letter %(number)s is %(status)s: it is not rendered again.")
            % {"number": letter.number, "status": letter.get_status_display()}
        )
    html = render_html(letter.template, letter.snapshot)
    _refuse_prohibited(letter, html)
    pdf = render_pdf(html, snapshot=letter.snapshot)
    if letter.pdf:
        letter.pdf.delete(save=False)
    letter.pdf.save(f"{letter.number}.pdf", ContentFile(pdf), save=False)
    # A new rendering needs a new approval, bound to the new hash.
    letter.pdf_sha256, letter.status = sha256_of(pdf), LetterStatus.PENDING_APPROVAL
    letter.approved_by, letter.approved_at, letter.approved_sha256 = None, None, ""
    letter.save()
    return letter


def letters_render(*, letter_ids: list[int]) -> int:
    """Render those of these letters still drafts without a PDF, each as one counted try; return how many rendered.

    Idempotent: a letter rendered already, or failed, is skipped. The try is counted (and committed)
    before the rendering starts, so that a letter whose rendering kills its worker counts it too.
    """
    rendered = 0
    for letter_id in letter_ids:
        begun = waiting_to_render().filter(pk=letter_id).update(render_attempts=F("render_attempts") + 1)
        if not begun:
            continue
        letter = Letter.objects.select_related("template__firm").get(pk=letter_id)
        try:
            letter_render(letter=letter)
        except Exception as exc:  # any failure of this letter's rendering is its own, kept for a person
            _render_failed(letter, exc)
            continue
        rendered += 1
    return rendered


def _render_failed(letter: Letter, exc: Exception) -> None:
    """Keep the error; after the last try the letter waits for a person, before it the sweep queues it again."""
    error = " ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
    failed = letter.render_attempts >= settings.LETTERS_RENDER_MAX_ATTEMPTS
    status = LetterStatus.RENDER_FAILED if failed else LetterStatus.DRAFT
    waiting_to_render().filter(pk=letter.pk).update(status=status, render_error=error, render_queued_at=None)
    logger.error(
        "Letter %s not rendered (try %d of %d): %s",
        letter.number,
        letter.render_attempts,
        settings.LETTERS_RENDER_MAX_ATTEMPTS,
        error,
    )


def letter_render_retry(*, letter: Letter, actor: AbstractBaseUser | None) -> Letter:
    """Make a letter whose rendering failed a draft again, with its tries counted afresh, and render it.

    Who retried and when stay on the letter; the last error is cleared once a new try begins to count.
    """
    if actor is not None and not actor.has_perm("letters.retry_letter_rendering"):
        raise PermissionDenied(_("You are not allowed to retry rendering letters."))
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        if locked.status != LetterStatus.RENDER_FAILED:
            raise ValidationError(
                _("Letter %(number)s is %(status)s: only a letter whose rendering failed is retried.")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        locked.status, locked.render_attempts, locked.render_error = LetterStatus.DRAFT, 0, ""
        locked.render_queued_at, locked.render_retried_by, locked.render_retried_at = None, actor, timezone.now()
        locked.save()
        transaction.on_commit(lambda: _render_drafted(locked.pk))
    return locked


def stored_pdf_bytes(letter: Letter) -> bytes | None:
    """Return the PDF as stored now, or None if the storage has no file of its name (this machine cannot read it)."""
    try:
        with letter.pdf.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        logger.error("Letter %s: its PDF %s is not in the file storage.", letter.number, letter.pdf.name)
        return None


def stored_pdf_hash(letter: Letter) -> str:
    """Return the SHA-256 of the PDF as stored now ("" when it cannot be read: never a recorded hash)."""
    content = stored_pdf_bytes(letter)
    return "" if content is None else sha256_of(content)


def _check_reviewer(letter: Letter, actor: AbstractBaseUser) -> None:
    if not actor.has_perm("letters.approve_letter"):
        raise PermissionDenied(_("You are not allowed to approve letters."))
    if letter.requested_by_id == actor.pk:
        raise PermissionDenied(
            _("You requested letter %(number)s: someone else must approve it.") % {"number": letter.number}
        )
    if letter.kind == LetterKind.LAWYER_LETTER:
        lawyer = Lawyer.objects.filter(user=actor).first()
        if lawyer is None or lawyer.firm_id != letter.firm_id:
            raise PermissionDenied(
                _("Letter %(number)s is a lawyer letter of %(firm)s: only a lawyer of that firm approves it.")
                % {"number": letter.number, "firm": letter.firm}
            )


def _locked_pending(letter: Letter) -> Letter:
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status != LetterStatus.PENDING_APPROVAL:
        raise ValidationError(
            _("Letter %(number)s is %(status)s, not awaiting approval.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    return locked


def letter_approve(*, letter: Letter, actor: AbstractBaseUser, seen_sha256: str) -> Letter:
    """Approve the exact PDF the actor saw (by its SHA-256); four eyes, and a lawyer of the firm for lawyer letters."""
    _check_reviewer(letter, actor)
    with transaction.atomic():
        locked = _locked_pending(letter)
        if seen_sha256 != locked.pdf_sha256 or stored_pdf_hash(locked) != locked.pdf_sha256:
            raise ValidationError(
                _("The PDF of letter %(number)s changed since you opened it: review it again.")
                % {"number": locked.number}
            )
        locked.status, locked.approved_by, locked.approved_at = LetterStatus.APPROVED, actor, timezone.now()
        locked.approved_sha256 = seen_sha256
        locked.save()
        letter_event(EventType.LETTER_APPROVED, locked)
    return locked


def letter_reject(*, letter: Letter, actor: AbstractBaseUser, reason: str) -> Letter:
    """Reject with a reason; the letter can then be redrafted as a new letter."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the letter is rejected.")})
    _check_reviewer(letter, actor)
    with transaction.atomic():
        locked = _locked_pending(letter)
        locked.status, locked.rejected_by, locked.rejection_reason = LetterStatus.REJECTED, actor, reason.strip()
        locked.rejected_at = timezone.now()
        locked.save()
    return locked


def letter_redraft(*, letter: Letter, actor: AbstractBaseUser | None) -> Letter:
    """Draft a new letter for a rejected one, from fresh ledger data; the rejected letter stays as it was."""
    letter = Letter.objects.select_related("case__credit_line__customer", "template").get(pk=letter.pk)
    if letter.status != LetterStatus.REJECTED:
        raise ValidationError(_("Only a rejected letter is redrafted."))
    template = (
        LetterTemplate.objects.filter(code=letter.template.code, language=letter.language, is_active=True).first()
        or letter.template
    )
    return letter_draft(case=letter.case, template=template, actor=actor, redraft_of=letter)


def letter_event(kind: str, letter: Letter, **details: object) -> None:
    event_record(
        type=kind,
        case_id=letter.case_id,
        credit_line_id=letter.case.credit_line_id,
        letter=letter.number,
        **details,
    )


def letters_cancel_unsent(*, case_ids: list[int], reason: str) -> int:
    """Cancel, with the reason, every letter of these cases not yet sent (drafted, awaiting approval or approved).

    Called when a payment closes a case the same day, rather than leaving it to the re-check at dispatch.
    """
    unsent = Letter.objects.select_for_update().filter(case_id__in=case_ids, status__in=IN_FLIGHT_STATUSES)
    cancelled = list(unsent.values_list("pk", "number", "case_id", "case__credit_line_id"))
    Letter.objects.filter(pk__in=[pk for pk, *_rest in cancelled]).update(
        status=LetterStatus.CANCELLED, cancellation_reason=reason, cancelled_at=timezone.now(), next_attempt_at=None
    )
    events_record(
        (EventType.LETTER_CANCELLED, case_id, line_id, {"letter": number, "reason": reason})
        for _pk, number, case_id, line_id in cancelled
    )
    return len(cancelled)


def letter_verify(*, number: str, code: str) -> Letter | None:
    """Return the letter with this number if the code matches, else None (the same for either mistake).

    The codes are compared as bytes: ``compare_digest`` refuses non-ASCII text with an error, which
    would answer differently for a number that exists.
    """
    letter = Letter.objects.select_related("firm").filter(number=number).first()
    typed = code.strip().upper().encode()
    if letter is None or not secrets.compare_digest(letter.verification_code.encode(), typed):
        return None
    return letter


def letters_anonymise(*, letters: QuerySet[Letter], now: datetime.datetime) -> int:
    """Put ``ANONYMISED`` in place of these letters' addressee and the address they went to, and delete their PDFs.

    The retention policy's step for letters past their time: the number, dates, amounts, hashes and the
    approval and dispatch chain stay (the hash still names the file that was approved and sent), the
    personal data goes. The files are deleted once the change is committed. A letter anonymised already
    is left as it is; return how many changed.
    """
    files: list[str] = []
    with transaction.atomic():
        pending = list(letters.filter(anonymised_at__isnull=True).select_for_update().only("pk", "snapshot", "pdf"))
        for letter in pending:
            files += [letter.pdf.name] if letter.pdf else []
            letter.snapshot = {**letter.snapshot, "addressee": {"name": ANONYMISED, "address": ANONYMISED}}
            letter.pdf, letter.anonymised_at = "", now
        Letter.objects.bulk_update(pending, ["snapshot", "pdf", "anonymised_at"], batch_size=500)
        Letter.objects.filter(pk__in=[letter.pk for letter in pending]).exclude(dispatch_address="").update(
            dispatch_address=ANONYMISED
        )
        transaction.on_commit(lambda: _files_delete(files))
    return len(pending)


def _files_delete(names: list[str]) -> None:
    storage = Letter._meta.get_field("pdf").storage
    for name in names:
        storage.delete(name)
