"""Whether a customer's reply asks us to stop sending: 回T退订 in China, STOP in the United States.

A stop request must be honoured (the USA pack: an opt-out per medium; carriers in China expect 退订 to
work), and mistaking another reply for one only stops messages, so the test leans to yes: a reply that
is a stop word (``T``, ``TD``, ``退订``, ``取消``, ``STOP``, ``UNSUBSCRIBE``…), or starts with one
(``STOP please``, ``TD 谢谢``), or says 退订 / 拒收 / 取消订阅 / unsubscribe anywhere. Case, full-width
letters (``ＴＤ``), spaces and punctuation around the words do not matter.
"""

import re
import unicodedata

# A reply that is one of these, once folded, is a request to stop.
STOP_WORDS = frozenset(
    {
        "t",
        "td",
        "r",
        "退",
        "退订",
        "退定",
        "取消",
        "拒收",
        "停止",
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
    }
)
# A reply that starts with one of these is one too; words such as "end" or "cancel" lead other sentences.
LEADING_STOP_WORDS = frozenset({"t", "td", "退订", "stop", "stopall", "unsubscribe"})
# A reply that holds one of these anywhere is a request to stop.
STOP_PHRASES = ("退订", "拒收", "取消订阅", "不要再发", "unsubscribe", "opt out")
_SEPARATORS = re.compile(r"[\W_]+")


def _folded(text: str) -> str:
    # NFKC turns full-width letters and digits into ASCII ones; casefold is lower() for every script.
    return unicodedata.normalize("NFKC", text).casefold().strip()


def is_stop_request(text: str) -> bool:
    """Tell whether ``text``, a customer's reply, asks us to stop sending."""
    folded = _folded(text)
    words = [word for word in _SEPARATORS.split(folded) if word]
    if not words:
        return False
    if "".join(words) in STOP_WORDS or words[0] in LEADING_STOP_WORDS:
        return True
    return any(phrase in folded for phrase in STOP_PHRASES)
