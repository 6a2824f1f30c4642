"""English with a complete Simplified Chinese translation; the admin follows the browser and offers a switch."""

import ast
import gettext
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from backoffice.reports.forms import ReportFilterForm
from backoffice.reports.models import FlowCell
from cases.models import CaseTransition
from cases.workload.models import CaseAssignment

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def po_entries():
    """Return (msgid, msgstr, fuzzy, msgid_plural, msgctxt) of every entry of the catalogue, header excluded."""
    entries, current, key, fuzzy = [], {}, None, False
    lines = [*(LOCALE / "django.po").read_text(encoding="utf-8").splitlines(), ""]
    for line in lines:
        if line.startswith("#,"):
            fuzzy = "fuzzy" in line
        elif line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
            key, _space, rest = line.partition(" ")
            key = {"msgstr[0]": "msgstr"}.get(key, key)
            current[key] = _unquote(rest)
        elif line.startswith('"') and key:
            current[key] += _unquote(line)
        elif not line.strip() and current:
            if current.get("msgid"):
                entries.append(
                    (
                        current["msgid"],
                        current.get("msgstr", ""),
                        fuzzy,
                        current.get("msgid_plural"),
                        current.get("msgctxt"),
                    )
                )
            current, key, fuzzy = {}, None, False
    return entries


def test_every_message_has_a_chinese_translation_and_none_is_fuzzy():
    entries = po_entries()
    assert len(entries) > 150
    assert [msgid for msgid, msgstr, _fuzzy, _plural, _context in entries if not msgstr] == []
    assert [msgid for msgid, _msgstr, fuzzy, _plural, _context in entries if fuzzy] == []


def test_the_compiled_catalogue_matches_the_translations():
    with open(LOCALE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for msgid, msgstr, _fuzzy, plural, context in po_entries():
        if context:
            translated = (
                catalogue.npgettext(context, msgid, plural, 1) if plural else catalogue.pgettext(context, msgid)
            )
        else:
            translated = catalogue.ngettext(msgid, plural, 1) if plural else catalogue.gettext(msgid)
        assert translated == msgstr, msgid


@pytest.mark.django_db
def test_the_admin_speaks_chinese_to_a_chinese_browser_and_switches_on_request(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9", follow=True).content.decode()
    assert "催收管理后台" in page
    assert 'id="language-switch"' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    english = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-CN", follow=True).content.decode()
    assert "Collections back office" in english


@pytest.mark.django_db
def test_from_and_to_say_what_they_are_from_and_to_in_chinese():
    """One English word, four things: a report's first and last day, a bucket, a stage and an agent."""
    with translation.override("zh-hans"):
        form = ReportFilterForm({}, filters=("range",))
        assert (str(form.fields["from"].label), str(form.fields["to"].label)) == ("起始日", "截止日")
        assert str(FlowCell._meta.get_field("from_bucket").verbose_name) == "原账龄段"
        assert str(CaseTransition._meta.get_field("to_stage").verbose_name) == "新阶段"
        assert str(CaseAssignment._meta.get_field("assigned_from").verbose_name) == "原处理人"
