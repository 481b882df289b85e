"""Does a message say that someone is in danger right now?

A cue ("at my door", "عم يعذبوه", "اعتقلوا ابني") is weighed against time markers in the
same clause: "now" or "an hour ago" make it urgent, "last year" or "كانوا" make it a past
event, and cues that are present by their grammar ("they are coming", "عم يضربوه") are
urgent on their own. Negated cues ("I am not in danger", "ما في خطر") do not count.
Missing real danger is worse than a false alarm, so ambiguous present-tense cues count.

All patterns run on `normalise_arabic` output; their Arabic letters are unified the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu._normalise import AR_LETTER_TABLE

__all__ = ["Urgency", "UrgencyDetector"]

IMMEDIATE = "immediate_danger"
ONGOING = "ongoing_violence"
ARREST = "recent_arrest"

# (reason, needs): needs is "none" (present by itself), "now" (needs a now-marker),
# or "recent" (a now- or recent-marker).
_SUBJECT_AR = (
    r"(?:هم|هني|هن|همه|الامن|الشرطه|البوليس|الجيش|العسكر|المخابرات|الشبيحه|المليشيا|"
    r"الميليشيا|رجال|عناصر|دوريه|سياره|سيارات|شباب)"
)
_PLACE_PREP_AR = r"(?:عند|ع|علي|قدام|امام|برا|بره|خارج|حول|جنب|تحت|داخل|جوا|جوه|في|ب)"
_HOUSE_AR = r"(?:ال)?(?:بيت|منزل|دار|عماره|بنايه|شقه|حاره|حي|باب)\w*"

_CUES: tuple[tuple[str, str, str], ...] = (
    (IMMEDIATE, "none", r"\b(?:sos|mayday|emergency|نجده|النجده|انجدوني|انجدونا|الحقوني|الحقونا|"
     r"الحقوه|الحقوها|الحقني|انقذوني|انقذونا|انقذوه|انقذوها|اغيثوني|استغاثه|طوارئ|طارئ|"
     r"najde|najdeh|ilha2ouni|el7a2ouni|2inqizouni)\b"),
    (IMMEDIATE, "none", r"\b(?:in|under|فيه?|ب|في ال|بال)\s?(?:immediate |grave |serious |real )?"
     r"(?:danger|threat|attack|خطر|الخطر|5atar|khatar|5a6ar)\b"),
    (IMMEDIATE, "none", r"\b(?:b5atar|bkhatar|bi5atar|بخطر|خطر)\b"),
    (IMMEDIATE, "none", r"\b(?:not|never|don't feel|do not feel|no longer) safe\b|\bunsafe\b|"
     r"\b(?:مش|مو|لست|ليس|ماني|مانيش|مب|مش حاسس|مش حاسه) ?(?:ب|في )?(?:امان|امن|امانه|امنه|"
     r"بامان)\b"),
    (IMMEDIATE, "none", r"\b(?:they are|they're|theyre|(?:the )?police (?:is|are)|soldiers are|"
     r"men are|(?:the )?army is|security is|someone is|somebody is|people are|officers are) "
     r"(?:at|outside|in front of|near|around|inside|surrounding|breaking|knocking|banging|"
     r"searching|raiding|coming|on (?:their|the) way|here|in the house|in my house)\b"),
    (IMMEDIATE, "now", r"\b(?:at|outside|on|in front of) (?:my|our|the) (?:door|house|home|"
     r"building|window|street|gate)\b"),
    (IMMEDIATE, "none", r"\b(?:knocking|banging|breaking|kicking)(?: on| down| in)?"
     r"(?: the| my| our)? door\b|\b(?:coming|on their way|on the way) "
     r"(?:for|to get|after|to take|to arrest|to) "
     r"(?:me|us|him|her|them|my|our)\b|\bthey(?:'re| are) coming\b|\bcoming to (?:my|our) "
     r"(?:house|home)\b"),
    (IMMEDIATE, "none", r"\b(?:going to|gonna|will|want to|about to|threaten(?:ing|s)? to|"
     r"trying to) (?:kill|shoot|execute|torture|arrest|take|hurt|rape|kidnap) "),
    (IMMEDIATE, "none", r"\b(?:following|chasing|hunting|surrounding|surrounded|raiding) (?:me|us|"
     r"him|her|the house|my house|our house|the building)\b|"
     r"\b(?:i am|i'm|im|we are|we're) hiding\b"),
    (IMMEDIATE, "none", r"\b" + _PLACE_PREP_AR + r"\s?(?:ال)?باب\w*\b|\b" + _SUBJECT_AR
     + r"\b.{0,25}\b" + _PLACE_PREP_AR + r"\s?" + _HOUSE_AR),
    (IMMEDIATE, "now", r"\b" + _PLACE_PREP_AR + r"\s?" + _HOUSE_AR),
    (IMMEDIATE, "none", r"\b(?:عم |قاعدين |قاعد )?(?:بي|ب|ي)?(?:دق|طرق|خبط|كسر|دفش)(?:و|وا|ون)\b"
     r".{0,20}باب|\b(?:3and|3ind|3al|3a|odam|2oddam) ?(?:el|l)?[ -]?bab\b|"
     r"\b\w*(?:do2|du2|dou2|tor2|tro2|5bt|khbt|khabt|5abt)\w*\b.{0,15}\bbab\b"),
    (IMMEDIATE, "none", r"\b(?:جايين|جاين|قادمون|في الطريق|عالطريق|عم يلحقوني|يلحقوني|"
     r"يلاحقوني|بيلاحقوني|يطاردوني|بيطاردوني|لاحقيني|محاصرين|حاصرونا|حاصروا البيت|يحاصرون|"
     r"طوقوا|مداهمه|يداهمون|عم يداهموا|مختبي|متخبي|مخبي حالي|عم اتخبي|قاعد اتخبي|"
     r"jayeen|jayin|ja2yin|3am yla7\w*)\b"),
    (IMMEDIATE, "none", r"\b(?:رح |راح |ح|بدهم |بدن |بدو |يريدون |عايزين |عاوزين |ناويين |ناوين |"
     r"س|ه)(?:ي|ت|ن)(?:قتل|خطف|عتقل|عذب|ذبح|صف|غتصب|عدم)\w*|"
     r"\b(?:رح |راح |ح|بدهم |بدن |جايين |جاين |ه)(?:ي|ت)(?:اخد|اخذ|خد)(?:وني|ونا|وه|وها|ني|نا)\b|"
     r"\b(?:يريدون|بدهم|بدن|ناويين|ناوين|عايزين|يبغون|يبون) (?:قتل|اعتقال|خطف|تصفيه|ذبح|اعدام)\w*|"
     r"\bيهدد\w*.{0,25}\b(?:بالقتل|بقتل|بالذبح|بالاعدام|بالتصفيه)\b|"
     r"\b(?:ra7|rah|bado|badon|7a|ha)\s?y(?:2|a2|e2)?t(?:o|e)?l\w*"),
    (ONGOING, "none", r"\b(?:is|are|am|being|keep|keeps|still) (?:being )?(?:beaten|beating|"
     r"tortured|torturing|hit|hitting|raped|raping|shot|shooting|electrocuted|electrocuting|"
     r"hurting|kicking|kicked|attacked|attacking|abused|abusing|killing|strangling|whipping)\b"),
    (ONGOING, "none", r"\b(?:عم|قاعد|قاعدين|قاعده|لسا|لسه|لا يزالون|ما زالوا|مازالوا|"
     r"مازالو|ما زالو) (?:ي|ب|بي|ت|بت)?(?:ضرب|عذب|غتصب|صعق|كهرب|رفس|جلد|خنق|قتل|طخ|قوص|دعس)\w*"),
    (ONGOING, "none", r"\b(?:ب|ف|و)?(?:ي|بي|بت|ت)(?:ضرب|عذب|غتصب|صعق|كهرب|جلد|خنق|رفس|دعس)"
     r"(?:و|وا|ون|ونه|وه|وها|وهم|وني|ونا|ونني|وننا|ونها|ونهم|ه|ها|هم|ني|نا)?\b"),
    (ONGOING, "none", r"\b(?:3am|2a3d|ga3d|gaa3d|2a3din|ga3din) \w*(?:drb|darb|dorb|3azb|3adhb|"
     r"3azeb|3adb|3zb|dreb|ta3zib)\w*|\bbi(?:darbo|3azbo|3azbou|drbo)\w*"),
    (ONGOING, "now", r"\b(?:beat|beating|beaten|torture|torturing|tortured|hit|hitting|rape|"
     r"raping|shoot|shooting|attack|attacking|kill|killing|ضرب\w*|تعذيب|التعذيب|عذب\w*|"
     r"اغتصاب|اغتصب\w*|صعق\w*|قتل\w*|طخ\w*|darab\w*|3azab\w*|ta3zib)\b"),
    (ARREST, "none", r"\bjust (?:arrested|detained|took|taken|kidnapped|abducted|grabbed|raided)\b|"
     r"\b(?:توه|للتو|هلق|هلا|الحين|هسه|توا|دلوقتي) (?:اعتقل|عتقل|اخد|اخذ|خد|خطف|مسك)\w*"),
    (ARREST, "recent", r"\b(?:arrested|detained|kidnapped|abducted|disappeared|picked up|grabbed|"
     r"seized|dragged|arresting|raided)\b|\b(?:took|taking|take) (?:him|her|them|me|us|my|our)\b|"
     r"\b(?:was|were|been|got|being) taken\b"),
    (ARREST, "recent", r"\b(?:و|ف)?(?:اعتقل\w*|عتقل\w*|اعتقال|قبضوا|قبض علي\w*|مسكوه|مسكوها|"
     r"مسكوني|مسكو|اخدوه|اخدوها|اخدوني|اخذوه|اخذوها|اخذوني|اخدو|اخذوا|اخدوا|خدوه|خدوها|خدوني|"
     r"خطف\w*|اختطف\w*|اختفي|اختفت|شحطوه|سحبوه|لموه|زتوه|شالوه|داهموا|اقتحموا)\b|"
     r"\b(?:e3ta2al\w*|i3ta2al\w*|3ta2al\w*|akhadou\w*|a5adou\w*|5adoh|5adouh|msakoh|msakouh|"
     r"5atafo\w*|khatafo\w*)\b"),
)

_NOW = (
    r"\b(?:now|right now|currently|at the moment|at this moment|as we speak|as i write|"
    r"immediately|hurry|asap|urgent|urgently|tonight|الان|الحين|هلق|هلء|هسه|هسا|"
    r"هسع|دلوقتي|دلوقت|دحين|توا|دابا|درك|حاليا|في هذه اللحظه|هاللحظه|بهاللحظه|هالحين|"
    r"فورا|بسرعه|ضروري|عاجل|مستعجل|لحد الان|لهلق|هاي اللحظه|hala2|halla2|hal2|daloa2ti|"
    r"dilwa2ti|delwa2ty|dlw2ty|el7in|hal7in|7alan|hasa|hessa|fawran)\b|(?<=\S )هلا\b"
)
_RECENT = (
    r"\b(?:today|this morning|this evening|tonight|last night|yesterday|just now|"
    r"(?:a few |few |\d+ |an |one |two |half an )?(?:minutes?|hours?|hrs?|mins?) ago|"
    r"earlier today|اليوم|الليله|هالليله|الصبح|الصباح|هالصبح|المسا|قبل ساعه|"
    r"قبل ساعتين|قبل ساعات|قبل شوي|من شوي|قبل قليل|قبل دقايق|قبل دقيقه|من ساعه|من ساعتين|"
    r"امبارح|مبارح|البارحه|امس|ليله امبارح|توه|للتو|منذ قليل|منذ ساعه|منذ ساعتين|"
    r"قبل ربع ساعه|قبل نص ساعه|قبل \d+ (?:ساعات|ساعه|دقايق|دقيقه)|قبل يومين|lyom|el yom|elyom|"
    r"lyoum|ams|embare7|mbere7|mbare7|abl sa3a|2abl sa3a|men shway|abl shway|2abl shway)\b"
)
_PAST_WEAK = (
    r"\b(?:was|were|had been|used to|previously|when i was|back then|كان|كانوا|كانو|كنت|كنا|"
    r"كانت|سابقا|kan|kano|kanu|kenet|kunt|kenna)\b"
)
_PAST_STRONG = (
    r"\b(?:last (?:year|month|week|summer|winter)|(?:years?|months?|weeks?) ago|in (?:19|20)\d\d|"
    r"back in|long ago|in the past|(?:19|20)\d\d|زمان|في الماضي|"
    r"(?:قبل|منذ|من) (?:\d+ )?(?:سنه|سنتين|سنين|سنوات|اشهر|شهر|شهرين|شهور|اسبوع|اسبوعين|"
    r"اسابيع|عام|عامين|اعوام)|السنه الماضيه|العام الماضي|الشهر الماضي|الاسبوع الماضي|"
    r"abl sene|2abl sene|abl snin|men zaman|zaman)\b"
)
_NEGATORS = frozenset(
    "not no never nobody isn't aren't ain't wasn't don't doesn't nothing without "
    "ما مش مو لا لم لن ليس لست ليست لسنا غير مافي مافيش مفيش ماكو ماكاين مكاينش ماني مانيش "
    "مب msh mish mesh mush mo mu mafi mafish mani".split()
)
_CLAUSE_SPLIT = re.compile(r"[.!?؟،,;؛\n]+|\s(?:but|however|although|though|لكن|بس|بينما)\s")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _compile(source: str) -> re.Pattern[str]:
    return re.compile(source.translate(AR_LETTER_TABLE))


@dataclass(frozen=True)
class Urgency:
    """Whether a message signals immediate danger, with short reason ids."""

    urgent: bool
    reasons: tuple[str, ...] = ()


class UrgencyDetector:
    """Precompiled urgency rules; `detect(normalised_text)` is pure and fast."""

    def __init__(self) -> None:
        self._cues = tuple((reason, needs, _compile(src)) for reason, needs, src in _CUES)
        self._now = _compile(_NOW)
        self._recent = _compile(_RECENT)
        self._past_weak = _compile(_PAST_WEAK)
        self._past_strong = _compile(_PAST_STRONG)

    def detect(self, normalised: str) -> Urgency:
        """Assess `normalised` (output of `normalise_arabic`)."""
        reasons: list[str] = []
        whole = self._markers(normalised)
        for clause in _CLAUSE_SPLIT.split(normalised):
            if not clause.strip():
                continue
            cues = self._cues_in(clause)
            if not cues:
                continue
            markers = self._markers(clause)
            if not any(markers):
                markers = whole
            for reason, needs in cues:
                if _fires(needs, *markers) and reason not in reasons:
                    reasons.append(reason)
        return Urgency(bool(reasons), tuple(reasons))

    def _markers(self, text: str) -> tuple[bool, bool, bool, bool]:
        return (
            bool(self._now.search(text)),
            bool(self._recent.search(text)),
            bool(self._past_weak.search(text)),
            bool(self._past_strong.search(text)),
        )

    def _cues_in(self, clause: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for reason, needs, pattern in self._cues:
            for match in pattern.finditer(clause):
                if not _negated(clause, match.start()):
                    found.append((reason, needs))
                    break
        return found


def _fires(needs: str, now: bool, recent: bool, weak_past: bool, strong_past: bool) -> bool:
    """Apply the time markers of a clause to a cue of kind `needs`."""
    if now:
        return True
    if needs == "now":
        return False
    if needs == "recent":
        return recent and not strong_past
    return recent or not (weak_past or strong_past)


def _negated(clause: str, start: int) -> bool:
    """True when one of the four words before `start` is a negator."""
    before = _WORD.findall(clause[:start])[-4:]
    return any(w in _NEGATORS for w in before)
