"""Conditions and hedges: "yes, but only if I agree first" is not a yes to a consent question.

Consent must be free, informed and unconditional to count (San José Guidelines 5(e)); a
software that stores "نعم بس بشرط" as plain consent would let a caseworker act on a permission
the reporter never gave. `is_hedged` is deliberately broad: on a consent question a false
alarm costs one more question, a miss costs the reporter's safety.
"""

from __future__ import annotations

from nlu._language import tokens
from nlu._normalise import normalise_arabic

__all__ = ["is_hedged"]

# Whole words (normalised: hamza forms, ta marbuta as ه, no diacritics) that make a yes
# conditional or unsure, in English, MSA, the dialects and Arabizi.
_WORDS = frozenset(
    """
    if unless provided providing only but except depends depending maybe perhaps probably
    possibly condition conditions conditional unsure first later
    اذا إذا لو بشرط شرط شروط بشروط الا بس لكن لاكن بعدين ربما يمكن يمكن ممكن جايز
    حسب بحسب طالما مادام ماداما شريطه شريطة اول قبل مبدئيا غالبا احتمال
    iza eza ida ida law lw bas bs bass lakin lakn bcharte bchart bshart shart char6 chart
    yimkin ymkn yemken mumkin momken mmkn ba3dein ba3den hasab 7asab ila ghir gher
    mais sauf peutetre
""".split()
)
# Phrases (token sequences) for what single words would over-match.
_PHRASES = (
    ("as", "long", "as"),
    ("not", "sure"),
    ("i", "think"),
    ("ask", "me"),
    ("check", "with"),
    ("let", "me", "know"),
    ("ان", "شاء", "الله"),
    ("inshallah",),
    ("insha", "allah"),
    ("peut", "etre"),
    ("مش", "متاكد"),
    ("مو", "متاكد"),
    ("مش", "متأكد"),
    ("ما", "بعرف"),
    ("msh", "mt2akd"),
    ("mish", "met2aked"),
    ("تسالني",),
    ("تسألني",),
    ("تسألوني",),
    ("تسالوني",),
    ("تستأذني",),
    ("تستاذني",),
    ("tis2alni",),
    ("tes2alni",),
    ("tsalni",),
)


_NORMAL_WORDS = frozenset(normalise_arabic(w) for w in _WORDS)
_NORMAL_PHRASES = tuple(tuple(normalise_arabic(p) for p in phrase) for phrase in _PHRASES)


def is_hedged(text: str) -> bool:
    """True when the text puts a condition on, or doubts, what it answers."""
    words = tokens(normalise_arabic(text))
    if any(w in _NORMAL_WORDS for w in words):
        return True
    return any(
        tuple(words[i : i + len(p)]) == p
        for p in _NORMAL_PHRASES
        for i in range(len(words) - len(p) + 1)
    )
