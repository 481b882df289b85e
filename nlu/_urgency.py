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
from functools import cache

from nlu._normalise import AR_LETTER_TABLE

__all__ = ["REASONS", "Urgency", "UrgencyDetector", "primary_reason"]

IMMEDIATE = "immediate_danger"
ONGOING = "ongoing_violence"
ARREST = "recent_arrest"
MEDICAL = "medical_in_custody"
THREAT_TIME = "threat_with_time"
THREAT_WITHDRAW = "threat_to_withdraw"
SELF_HARM = "self_harm"
CHILD = "child_in_danger"
DISAPPEARED = "fresh_disappearance"
WATCHED = "present_danger"

#: The `urgent_reason` of the parse contract for each detector reason, most serious first:
#: the first reason of a message in this order is the one a caseworker sees.
REASONS: dict[str, str] = {
    SELF_HARM: "self_harm",
    MEDICAL: "medical_in_custody",
    CHILD: "child_in_danger",
    IMMEDIATE: "present_danger",
    ONGOING: "present_danger",
    THREAT_WITHDRAW: "threat_to_withdraw",
    THREAT_TIME: "threat_with_time",
    DISAPPEARED: "fresh_disappearance",
    ARREST: "fresh_disappearance",
    WATCHED: "present_danger",
}


def primary_reason(reasons: tuple[str, ...]) -> str | None:
    """The contract's `urgent_reason` for detector `reasons` (None when there are none)."""
    if not reasons:
        return None
    order = list(REASONS)
    known = sorted((r for r in reasons if r in REASONS), key=order.index)
    return REASONS[known[0]] if known else "present_danger"


# (reason, needs): needs is "none" (present by itself), "now" (needs a now-marker),
# or "recent" (a now- or recent-marker).
_SUBJECT_AR = (
    r"(?:هم|هني|هن|همه|الامن|الشرطه|البوليس|الجيش|العسكر|المخابرات|الشبيحه|المليشيا|"
    r"الميليشيا|رجال|عناصر|دوريه|سياره|سيارات|شباب)"
)
_PLACE_PREP_AR = (
    r"(?:حدا|عند|ع|علي|قدام|امام|برا|بره|خارج|حول|جنب|تحت|داخل|جوا|جوه|في|ب|يم|"
    r"گدام|كدام)"
)
_HOUSE_AR = r"(?:ال)?(?:مدخل|بيت|منزل|دار|عماره|بنايه|شقه|حاره|حي|باب)\w*"

_CUES: tuple[tuple[str, str, str], ...] = (
    (
        IMMEDIATE,
        "none",
        r"\b(?:sos|mayday|emergency|نجده|النجده|انجدوني|انجدونا|الحقوني|الحقونا|"
        r"الحقوه|الحقوها|الحقني|انقذوني|انقذونا|انقذوه|انقذوها|اغيثوني|استغاثه|طوارئ|طارئ|"
        r"najde|najdeh|ilha2ouni|el7a2ouni|2inqizouni)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:in|under|فيه?|ب|في ال|بال)\s?(?:immediate |grave |serious |real )?"
        r"(?:danger|threat|attack|خطر|الخطر|5atar|khatar|5a6ar)\b",
    ),
    (IMMEDIATE, "none", r"\b(?:b5atar|bkhatar|bi5atar|بخطر|خطر)\b"),
    (
        IMMEDIATE,
        "none",
        r"\b(?:not|never|don't feel|do not feel|no longer) safe\b|\bunsafe\b|"
        r"\b(?:مش|مو|لست|ليس|ماني|مانيش|مب|مش حاسس|مش حاسه) ?(?:ب|في )?(?:امان|امن|امانه|امنه|"
        r"بامان)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:they are|they're|theyre|(?:the )?police (?:is|are)|soldiers are|"
        r"men are|(?:the )?army is|security is|someone is|somebody is|people are|officers are) "
        r"(?:at|outside|in front of|near|around|inside|surrounding|breaking|knocking|banging|"
        r"searching|raiding|coming|on (?:their|the) way|here|in the house|in my house)\b",
    ),
    (
        IMMEDIATE,
        "now",
        r"\b(?:at|outside|on|in front of) (?:my|our|the) (?:door|house|home|"
        r"building|window|street|gate)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:knocking|banging|breaking|kicking)(?: on| down| in)?"
        r"(?: the| my| our)? door\b|\b(?:coming|on their way|on the way) "
        r"(?:for|to get|after|to take|to arrest|to) "
        r"(?:me|us|him|her|them|my|our)\b|\bthey(?:'re| are) coming\b|\bcoming to (?:my|our) "
        r"(?:house|home)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:going to|gonna|will|want to|about to|threaten(?:ing|s)? to|"
        r"trying to) (?:kill|shoot|execute|torture|arrest|take(?! (?:my |the |our |it |this )?"
        r"(?:complaint|case|report|statement|consent|back|it back))|hurt|rape|kidnap) ",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:following|chasing|hunting|surrounding|surrounded|raiding) (?:me|us|"
        r"him|her|the house|my house|our house|the building)\b|"
        r"\b(?:i am|i'm|im|we are|we're) hiding\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b"
        + _PLACE_PREP_AR
        + r"\s?(?:ال)?باب\w*\b|\b"
        + _SUBJECT_AR
        + r"\b.{0,25}\b"
        + _PLACE_PREP_AR
        + r"\s?"
        + _HOUSE_AR,
    ),
    (IMMEDIATE, "now", r"\b" + _PLACE_PREP_AR + r"\s?" + _HOUSE_AR),
    (
        IMMEDIATE,
        "none",
        r"\b(?:عم |قاعدين |قاعد )?(?:بي|ب|ي)?(?:دق|طرق|خبط|كسر|دفش)(?:و|وا|ون)\b"
        r".{0,20}باب|\b(?:3and|3ind|3al|3a|odam|2oddam) ?(?:el|l)?[ -]?bab\b|"
        r"\b\w*(?:do2|du2|dou2|tor2|tro2|5bt|khbt|khabt|5abt)\w*\b.{0,15}\bbab\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:el |l|la |al )?(?:shorta|chorta|amn|police|polis|bolis|bolice|"
        r"jaysh|jeish|mukhabarat|mokhabarat|mo5abarat|dawriyye|dawriya) (?:odam|2odam|oddam|"
        r"9dam|gdam|gedam|3and|3end|3ind|bara|barra|7ad|janb) (?:el |l)?(?:bet|beit|beet|bab|dar|"
        r"binaye|3imara|door|house)\b",
    ),
    (
        WATCHED,
        "none",
        r"\b(?:(?:في |فيه )?(?:حدا|حد|واحد|ناس|شي حدا|حدن) (?:جاي|جايين|هون|هنا|"
        r"برا|بالباب|عالباب|داخل|دخل|وصل)|someone(?:'s| is) (?:here|coming)|somebody(?:'s| is) "
        r"(?:here|coming)|(?:fi |fih )?(?:7ada|7ad|wa7ed|wahed|chi wa7ed) (?:jay|jaye|hon|hena|"
        r"hna|jayin|jaw|ja)|rah jaw|jaw l|جاو|جاوا)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:جايين|جاين|قادمون|في الطريق|عالطريق|عم يلحقوني|يلحقوني|"
        r"يلاحقوني|بيلاحقوني|يطاردوني|بيطاردوني|لاحقيني|محاصرين|حاصرونا|حاصروا البيت|يحاصرون|"
        r"طوقوا|مداهمه|يداهمون|عم يداهموا|مختبي|متخبي|مخبي حالي|عم اتخبي|قاعد اتخبي|"
        r"jayeen|jayin|ja2yin|3am yla7\w*)\b",
    ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:رح |راح |ح|بدهم |بدن |بدو |يريدون |عايزين |عاوزين |ناويين |ناوين |"
        r"س|ه)(?:ي|ت|ن)(?:قتل|خطف|عتقل|عذب|ذبح|صف|غتصب|عدم)\w*|"
        r"\b(?:رح |راح |ح|بدهم |بدن |جايين |جاين |ه)(?:ي|ت)(?:اخد|اخذ|خد)"
        r"(?:وني|ونا|وه|وها|ني|نا)\b|"
        r"\b(?:يريدون|بدهم|بدن|ناويين|ناوين|عايزين|يبغون|يبون) "
        r"(?:قتل|اعتقال|خطف|تصفيه|ذبح|اعدام)\w*|"
        r"\bيهدد\w*.{0,25}\b(?:بالقتل|بقتل|بالذبح|بالاعدام|بالتصفيه)\b|"
        r"\b(?:ra7|rah|bado|badon|7a|ha)\s?y(?:2|a2|e2)?t(?:o|e)?l\w*",
    ),
    (
        ONGOING,
        "none",
        r"\b(?:is|are|am|being|keep|keeps|still) (?:being )?(?:beaten|beating|"
        r"tortured|torturing|hit|hitting|raped|raping|shot|shooting|electrocuted|electrocuting|"
        r"hurting|kicking|kicked|attacked|attacking|abused|abusing|killing|strangling|whipping)\b",
    ),
    (
        ONGOING,
        "none",
        r"\b(?:عم|قاعد|قاعدين|قاعده|لسا|لسه|لا يزالون|ما زالوا|مازالوا|"
        r"مازالو|ما زالو) (?:ي|ب|بي|ت|بت)?(?:ضرب|عذب|غتصب|صعق|كهرب|رفس|جلد|خنق|قتل|طخ|قوص|دعس)\w*",
    ),
    (
        ONGOING,
        "none",
        r"\b(?:ب|ف|و)?(?:ي|بي|بت|ت)(?:ضرب|عذب|غتصب|صعق|كهرب|جلد|خنق|رفس|دعس)"
        r"(?:و|وا|ون|ونه|وه|وها|وهم|وني|ونا|ونني|وننا|ونها|ونهم|ه|ها|هم|ني|نا)?\b",
    ),
    (
        ONGOING,
        "none",
        r"\b(?:3am|2a3d|ga3d|gaa3d|2a3din|ga3din) \w*(?:drb|darb|dorb|3azb|3adhb|"
        r"3azeb|3adb|3zb|dreb|ta3zib)\w*|\bbiy?(?:darbo|3azbo|3azbou|drbo)\w*",
    ),
    (
        ONGOING,
        "now",
        r"\b(?:beat|beating|beaten|torture|torturing|tortured|hit|hitting|rape|"
        r"raping|shoot|shooting|attack|attacking|kill|killing|ضرب\w*|تعذيب|التعذيب|عذب\w*|"
        r"اغتصاب|اغتصب\w*|صعق\w*|قتل\w*|طخ\w*|darab\w*|3azab\w*|ta3zib)\b",
    ),
    (
        ARREST,
        "none",
        r"\bjust (?:arrested|detained|took|taken|kidnapped|abducted|grabbed|raided)\b|"
        r"\b(?:توه|للتو|هلق|هلا|الحين|هسه|توا|دلوقتي) (?:اعتقل|عتقل|اخد|اخذ|خد|خطف|مسك)\w*",
    ),
    (
        ARREST,
        "recent",
        r"\b(?:arrested|detained|kidnapped|abducted|disappeared|picked up|grabbed|"
        r"seized|dragged|arresting|raided)\b|"
        r"\b(?:took|taking|take) (?:him|her|them|me|us|my|our)\b|"
        r"\b(?:was|were|been|got|being) taken\b",
    ),
    (
        ARREST,
        "recent",
        r"\b(?:و|ف)?(?:اعتقل\w*|عتقل\w*|اعتقال|قبضوا|قبض علي\w*|مسكوه|مسكوها|"
        r"مسكوني|مسكو|اخدوه|اخدوها|اخدوني|اخذوه|اخذوها|اخذوني|اخدو|اخذوا|اخدوا|خدوه|خدوها|خدوني|"
        r"خطف\w*|اختطف\w*|اختفي|اختفت|شحطوه|سحبوه|سحبوا|لموه|زتوه|شالوه|شالوا|شالو|شلوا|شلو|"
        r"داهموا|اقتحموا|خدوا|خدو|شدو|شدوا|اقتاد\w*|اقتيد\w*|ساقوه|جروه|هزو|هزوا|داو|ودوه|ودوهو|"
        r"حكمو|حكموه|حكموها|حكموني|7akmouh|7kmouh|انسحب|insa7ab|nsa7ab|s7abaw|s7abooh|"
        r"sa7abooh|shalaw|shalouh|hazzou|hazou|khtfo|5tfo|khatfo|5atfo|iqtado)\b|"
        r"\b(?:5dhaw\w*|khdhaw\w*|akhadhaw\w*|a5dhaw\w*|shalo\w*|shalooh|e3ta2al\w*|i3ta2al\w*|"
        r"3ta2al\w*|akhadou\w*|a5adou\w*|5adoh|5adouh|msakoh|msakouh|"
        r"5atafo\w*|khatafo\w*)\b",
    ),
    (
        ARREST,
        "recent",
        r"\b(?:و|ف)?(?:خذو\w*|خذوا|شالوه\w*|هزوه|هزوها|شدوه|شدوها|داوه|داوها|اتاخد|"
        r"اتقبض\w*|تخطف|اتخطف|انخطف|5athooh|5athoo|5athaw|akhado|akhadu|chddouh|chddou|hazouh|"
        r"e3ta2alo\w*|enkhataf|t5tef)\b",
    ),
)

_KIN_CHILD = (
    r"(?:child|children|kid|kids|baby|my little|toddler|طفل|طفلي|طفلتي|اطفالي|اطفالنا|الاطفال|"
    r"ولادي|اولادي|ولادنا|اولادنا|عيالي|عيالنا|صغاري|وليداتي|drari|dra3i|wladi|awladi|"
    r"atfali|tefli|tifli|3iyali|3yali)"
)
_CHILD_CUES = (
    r"\b" + _KIN_CHILD + r"\w*\b.{0,30}\b(?:taken|arrested|detained|abducted|kidnapped|"
    r"missing|اعتقل\w*|معتقل\w*|خطف\w*|مخطوف\w*|اخدوه\w*|اخذوه\w*|خدوه\w*|ddawh\w*|5atfo\w*|"
    r"khatfo\w*)\b|\b(?:took|arrested|detained|abducted|kidnapped|taken|grabbed) (?:my|our|"
    r"his|her|their) (?:\w+ )?(?:child|children|kid|kids|baby|\d+[- ]years?[- ]old)\b|"
    r"\b(?:اعتقل\w*|خطف\w*|اختطف\w*|اخدو|اخذوا|خدو|شدو|داو)\s?(?:ال)?(?:طفل|اطفال|ولاد|اولاد|"
    r"عيال)\w*|\b(?:ابني|بنتي|ابنتي|ولدي|wlidi|weldi|ibni|ebni|binti)\b.{0,30}\b"
    r"(?:عمره|عمرها|3omro|3mro|aged?|is) (?:[1-9]|1[0-7])\b(?! years? ago)|"
    r"\b(?:و)?(?:عمره|عمرها|العمر)\s(?:\S+\s)?(?:ثلاث|اربع|خمس|ست|سبع|ثمان|تسع)\w*\sعشر\w*|"
    r"\b(?:خذو\w*|خدو\w*|اخدو\w*|اخذو\w*|خطف\w*|اختطف\w*|شالو\w*|هزو\w*|داو\w*|شدو\w*|اعتقلو\w*|"
    r"daw|ddaw|5athaw|akhado|khadu|chddou|took|abducted|kidnapped|e3tagalaw|e3ta2alo)\s(?:\S+\s)?"
    r"(?:ال)?(?:ولاد|اولاد|اطفال|wlad|wled|wlade|wildi|weldi|"
    r"ebne|ebni|binti|bente|benti|بنت|ابن|ولد)\w*\b.{0,20}"
    r"\b(?:ال)?(?:صغار|صغير|صغيره|زغار|زغير|sagheer|sagheera|"
    r"sghir|sghira|zghir|zghire|sghar|zghar)\b|"
    r"\b(?:اعتقل\w*|خطف\w*|اخدو|اخذوا|خدو|خذوا|شالوا|هزو|داو|شدو|"
    r"daw|ddaw|5athaw|akhado|khadu|chddou|took|abducted|"
    r"kidnapped)\s(?:ال)?(?:جهال|صغار|وليدات|ولادي|"
    r"اولادي|عيالي|اطفالي|wlidati|wlede|wladi|3yali|atfali|sghari|my (?:kids|children))\w*"
)

# Life-threatening health in custody: bleeding, unconscious, no medicine, not eating.
_MEDICAL_CUES = (
    r"\b(?:bleeding|unconscious|fainted|fainting|passed out|collapsed|can'?t breathe|"
    r"not breathing|dying|hunger strike|on strike from food|stopped eating|not eating|"
    r"refus\w* (?:food|to eat|water|to drink)|not drinking|no food or water|"
    r"(?:without|no|denied|denying|refuse\w* (?:him|her|them|me)|not given|doesn'?t have) "
    r"(?:his |her |their |my |any )?(?:medicine|medication|meds|insulin|pills|treatment|"
    r"dialysis|heart medicine|a doctor|medical care))\b|"
    r"\b(?:و|ف)?(?:ينزف|بينزف|عم ينزف|تنزف|نزيف|نزف|فاقد الوعي|فاقده الوعي|فقد الوعي|غايب عن الوعي|"
    r"مغمى عليه|مغمي عليه|اغمي عليه|اغمى عليه|غمي عليه|مضرب عن الطعام|مضربه عن الطعام|"
    r"مضربين عن الطعام|اضراب عن الطعام|مضرب عن الماكله|مضربه عن الماكله|"
    r"مضرب عن الاكل|بطل ياكل|بطلت تاكل|ما عم ياكل|ما عم تاكل|"
    r"مش بياكل|مبياكلش|مابياكل|ما ياكل|مش عم ياكل|رافض ياكل|رافض الاكل|لا ياكل ولا يشرب|"
    r"ما ياكل ولا يشرب|ما كياكلش|ماكيكولش|ما كيكول|ما ياكلش|عم يموت|رح يموت|بيموت|حيموت|"
    r"راح يموت|غادي يموت|حالته خطيره|وضعه الصحي خطير|ما بيتنفس|ما يقدر يتنفس)\b|"
    r"\b(?:و|ف)?(?:بلا|بدون|من غير|من دون|ما عنده|ماعنده|ما عندو|ماعندوش|معندوش|ما عطوه|"
    r"منعوا عنه|منعو عنه|حرموه من|محروم من|ما يعطوه|ما بيعطوه|مش بيدوه|ما كيعطيوهش|"
    r"مايعطوهش|ما عطاوهش|ما عندوش|ما عندهوش|معندهوش|ما عندهاش|مش راضيين يدوه|"
    r"مش راضيين يعطوه|ما رضيوا يعطوه|ما يرضون يعطونه|رافضين يعطوه|رافضين يدوه)\s?(?:ال)?(?:دوا|"
    r"دواء|دوائه|دواه|ادويته|ادويه|علاج|"
    r"علاجه|انسولين|الانسولين|غسيل الكلى|طبيب|دكتور)\w*|"
    r"\b(?:yenzef|yinzif|ynzef|nazif|kaynzef|kaynzf|kaynzaf|yenzf|ynzf|fa2ed el wa3i|"
    r"fa2d l wa3i|ghayeb 3an el wa3i|"
    r"edrab 3an el ta3am|edrab 3n l akl|mdreb 3an|modrib 3an|ma 3am yakol|mabyakolsh|"
    r"ma kaykoulch|makaykoulch|ma yakolsh|3am ymoot|ra7 ymoot|ghadi ymout|"
    r"(?:bala|bla|bdoun|bidoun|bdun|men gheir|min ghair|ma3ando|ma 3ando|ma3ndouch|ma 3ndou)"
    r" ?(?:el |l)?(?:dawa|dwa|dowa|insulin|3ilaj|3laj|doctor|tbib))\w*"
)

# A threat, and (checked with _SOON) a time that is near.
_THREAT_WORDS = (
    r"\b(?:threat\w*|warn\w*|will (?:kill|take|arrest|hurt|come|shoot|burn|rape)|"
    r"going to (?:kill|take|arrest|hurt|come|shoot|burn)|said they(?:'d| would) come|"
    r"told (?:me|us) they would|يهدد\w*|بيهدد\w*|هدد\w*|تهديد\w*|توعد\w*|اتوعد\w*|اتهددت|"
    r"رح ي\w+|راح ي\w+|ح ي\w+|هي\w+(?:وني|ونا|وه|ك)|سي\w+(?:ونني|وننا|ونه)|بدهم ي\w+|"
    r"قالوا (?:انهم )?(?:رح|راح|ح|ه|س)\w*|قالولي\w*|غادي ي\w+|"
    r"غادي ن\w+(?:وك|ك|كم|وه)\b|باش ي\w+|"
    r"hadad\w*|haddad\w*|yhaded\w*|yhadd\w*|tahdid\w*|ra7 y\w+|ha y\w+|ghadi y\w+|"
    r"ghadi n\w+(?:ouk|ok|k|kom|ouh)\b|"
    r"bech y\w+|bach y\w+|قالو\w*|گالو\w*|galou\w*|galaw\w*|9alou\w*|2alou\w*|they said|"
    r"they told|haddad\w*|hdd\w*|hedd\w*|"
    # someone coming: "بيجون", "حيجوا", "يجيو", "سيأتون", "bijoon", "yjiw"
    r"(?:ب|ح|ه|رح |راح |غادي |باش |بش )?"
    r"(?:يجو|يجوا|يجون|يجيو|يجي|نجيك|نجيوك|نجي|يمرو|يمرون|نمر)\w*|"
    r"سياتون|سيزورون\w*|جايين|جاين|جاي|(?:ب|ح|ه|رح |راح )?يداهم\w*|سيداهم\w*|"
    r"b(?:i|e)?d(?:a|aa)?hm\w*|y?dahm\w*|ydahmo\w*|bijoon|"
    r"bijo|yjiw|yjeo|yejo|yjo|njiwk|jayin|jeyin|"
    r"bnmurr|bimurroon|(?:they(?:'re| are| will)|will) (?:come|coming|visit)\w*|"
    r"coming (?:for|to get) (?:me|us|him|her)|دورك|دوركم|dorak|dorek|dorkom|با (?:ي|ن|ت)\w+|"
    r"بي\w{2,}ون|هي\w+وا|by\w{2,}oon|b?y?(?:i|e)?j(?:oo|ou)n|yeju|yiju)"
)
_CONDITION = (  # "or else", "if you don't": how a demand becomes a threat ("لو سمحت" is not)
    r"\b(?:(?:و)?(?:الا|ولا|الا ما) (?:ن|ب|ه|ح|س|ت|ي|غادي |راح )\w+|لو ما|اذا ما|ان لم|كان ما|"
    r"يا ت\w+ يا|(?:walla|wla|wella|willa|w ?illa|w ?ella|w ?ela) (?:n|b|h|7|y|t|ghadi )\w+|"
    r"ila ma|iza ma|eza ma|itha ma|law ma|lw ma|ya t\w+ ya|unless|or else|or you|"
    r"or (?:my|we|he|she|they|i|your|his|her)|لو (?:ي|ت|ن|ب|ح)\w+|"
    r"if (?:i|you|we) (?:don'?t|do not))\b"
)
_SOON = (
    r"\b(?:tonight|tomorrow|this (?:evening|night|week|weekend)|in (?:a|two|three|2|3) "
    r"(?:days?|hours?)|within (?:days|hours|a day|\d+ (?:days|hours))|by (?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|the end of the week)|next (?:few )?days|"
    r"بكره|بكرا|باكر|غدا|غدوه|الليله|هالليله|الليلادي|الليلاديه|الليله دي|الليله هاي|"
    r"هالاسبوع|الاسبوع هاد|هذا الاسبوع|خلال يومين|خلال ايام|بعد يومين|بعد بكره|بعد بكرا|"
    r"قبل الجمعه|حتى الجمعه|لبكره|لبكرا|هاد الليله|هاد الاسبوع|daba|dba|bokra|bukra|boukra|"
    r"bokr|ghodwa|ghadwa|ghdwa|lyoum|el lila|ellila|el leila|elleila|had lila|hal leile|had lil|"
    r"hal lil|الغد|صباح الغد|"
    r"el leile|leila|ghedda|ghda|3a ?bokra|عبكرا|عبكره|عالليل|هالليل|sob7|tomorrow morning|"
    r"ba3d bokra|hal esbou3|had sima|had l2osbou3|باجر|النهارده بالليل|الليله دي|اليوم بالليل|"
    r"بالليل ده|baachir|bachir|bacher|baacher|bukrah|bokrah|el layla|el laila|tonite)\b"
)
# A threat conditioned on withdrawing a complaint or testimony.
_WITHDRAW_DEMAND = (
    r"\b(?:withdraw|drop|retract|take back|pull) (?:my |the |our |his |her |their )?"
    r"(?:complaint|case|testimony|report|statement|lawsuit|charges)\b|"
    r"\b(?:و|ف|ل|ب)?م?(?:اسحب|تسحب|يسحب|نسحب|سحب|تتنازل|"
    r"اتنازل|يتنازل|نتنازل|التنازل|تنازل|تشيل|شلت|"
    r"نحيد|تحيد|حيد|نحي|تنحي|نحيت|تراجع|اتراجع|تتراجع|اتسحب|تتسحب|سحبت|تنازلت|حيدت)\w*\s?"
    r"(?:عن |على |علي )?(?:ال)?(?:شكوي|شكوه|شكايه|قضيه|دعوي|دعوه|شهاده|شهادت|بلاغ|افاده|محضر)\w*|"
    r"\b(?:ال)?(?:قضيه|شكوي|بلاغ|محضر)\w* (?:ما )?(?:اتسحب|تتسحب|تنسحب)\w*|"
    r"\b(?:b|bi|bt)?(?:ns7ab|nes7ab|tes7ab|ts7ab|tsi7b|tsheb|"
    r"t7eyed|tna7i|tetnazel|tnazel|tnazal|7ayd|shelt|"
    r"bes7ab|es7ab|as7ab|etraja3)\w* ?(?:el |l|ech|esh|3an el |3an |3la )?"
    r"(?:dik |dak |had |hadi )?"
    r"(?:shakwa|chakwa|chkaya|chikaya|shikaya|9adia|qadiya|gadhiya|da3wa|chhada|shahada|"
    r"shahadte|balagh)\w*|\b(?:tnazel|tnazal|tnazeltich|tetnazal|btetnazal|ntnazel|ntnazal)\w*\b|"
    r"\b(?:و|ف)?(?:ت|ي|ا|ن|بت|هت)?تنازل\w*\b|"
    r"\b(?:withdraw|drop|retract|take back|pull) (?:my |the |our |his |her |their )?"
    r"(?:complaint|case|testimony|report|statement|lawsuit|charges)\b|\bwithdraw\b|"
    r"\b\w{0,4}(?:s7ab|sa7ab|s7eb|shil|shel|chil|7ayd|7ayed|7iyd|7ayyed|na7i|n7i)\w*\s"
    r"(?:el |l|dik |dak |had |hadi )?(?:shakwa|chakwa|shikwa|chkaya|chikaya|shikaya|balagh|"
    r"bala8|qadiya|9adiya|qadiyye|2adiyye|2adiye|da3wa|mahdar|shahada|me7dar|m7dar|ma7dar|ma7dhar|"
    r"ifede|ifada|efada|2ifade|ifade)\w*|\b\w{0,2}tnaz[ae]l\w*"
)

# People at the door or watching now.
_WATCH_CUES = (
    r"\b(?:watching|following|filming|photographing) (?:me|us|the house|our house|my house|"
    r"the building|the door)\b|\b(?:car|men|someone|people) (?:is |are )?(?:parked |waiting |"
    r"standing )?(?:outside|in front of) (?:the|my|our) (?:house|home|building|door)\b|"
    r"\b(?:و|ف)?(?:عم|قاعد|قاعدين|لسا|لسه)\s?(?:ي|بي|ب)?راقب\w*|\b(?:بيراقبوني|بيراقبونا|"
    r"يراقبوا البيت|يراقبون البيت|يراقبو الدار|كيراقبو|كيتبعوني|كيضربو|دخلوا علينا|دخلو علينا|"
    r"(?:واقف|واقفه|واقفين|متوقفه|راكنه) (?:تحت|قدام|جنب|برا|بره|عند|امام|يم) (?:ال)?"
    r"(?:بيت|بنايه|عماره|دار|باب|شقه)\w*|"
    r"دخلوا البيت|دخلو الدار|داخلين علينا|واقفين تحت البيت|واقفين قدام|سياره واقفه|"
    r"dakhlo 3lina|dkhlo 3lina|da5lo 3lina|d5lo 3lina|dakhlu 3lina|w9fin 9dam|wa9fin 9dam|"
    r"kayraqbo|kaytab3oni|3am yra2bo|3am yrak?bouna)\b|"
    r"\b(?:و|ف)?(?:مصور\w*|بيصور\w*|يصور\w*|kaysawro|ysawro\w*|ysawroon)\s(?:\S+\s)?(?:ال)?"
    r"(?:باب|بيت|دار|عماره|بنايه|منزل|bab|bet|dar)\w*|"
    r"\b(?:sayyara|sayara|sayyarah|tomobil|tonobil|karhba|karhaba|3arabiyya|3arabeya|ta9m)\w* "
    r"(?:\S+ ){0,2}(?:wagfa|waqfa|wa9fa|wa2fe|wa2fa|mw9fa|mwagfa|mawgoofa|msaffa|mwa2afe|parked|"
    r"waguefa)\b.{0,25}\b(?:bait|beit|bet|dar|house|building|bab|3imara|binaye)\w*|"
    r"\b(?:t|y|b|k|kay|kat|3am y|3am t)?ra(?:q|k|2|g)(?:e|i)?b\w*\b.{0,32}"
    r"\b(?:bait|beit|bet|dar|house)\b|"
    r"\b(?:kayt3bo|kayt3bou|kaytab3o|yt3bo|ytab3o|yla7\w*|yt7arrak\w*)\w*\b.{0,20}\b(?:daba|dorka|"
    r"halla2|al7een|tawa|now)\b|\b(?:ydkhlou|ydakhlo|ydkhlo|yodkhlo) 3lina\b|"
    r"\bjaw (?:3nd|3l|l3nd)\w*|جاو (?:ل)?عند\w*|"
    r"\b(?:da5leen|dakhlin|dakhleen|da5lin|داخلين|داخله)\s(?:ل|لل|ال|el |l|3al |عل|علي)?"
    r"(?:bait|beit|dar|بيت|دار|الدار|البيت|3lina|علينا)\b|"
    r"\b(?:kat3ebni|kat3bni|kayt3bni|kat3bani|yt3bni|tab3ani|تلاحقني|بتلاحقني|تتبعني|كتبعني|"
    r"بتتبعني|تطاردني|following me)\b|\b(?:ماشي|ماشيه|ماشين|ماشه)\s(?:\S+\s)?ورا(?:ي|يا)\b|"
    r"\b(?:ي|بي|عم ي|ت|بت)(?:قتحم|داهم)\w*|"
    r"\b(?:wagfeen|wagfin|wa2fin|wa2fe|waqfin|wa9fin|w9fin|"
    r"waqfa|wa9fa|wagfa|waqfen|wagfat)\b.{0,15}"
    r"\b(?:barra|bara|9dam|odam|2odam|gdam|3and|3end|3ind|janb|ta7t|outside|7da|7eda)\b|"
    r"\b(?:tlif|ydoor|tdoor|tlef|ydouro) (?:7ol|7awl|7awalen|7wali) (?:el )?(?:bait|bet|dar)\w*|"
    r"\b(?:ت|ي|بت|بي)?(?:لف|لفو|حوم|حومو|دور|دورو)\w* (?:حول|"
    r"حوالين|حولين) (?:ال)?(?:بيت|دار|منزل)\w*|"
    r"\b\w{0,3}راقب\w*\s(?:ال)?(?:بيت|منزل|دار|عماره|بنايه)\w*|"
    r"\b\w{0,3}راقب\w*\b(?=.*\b(?:هلق|هسه|هسي|"
    r"الحين|الان|دلوقتي|دابا|درك|توه|ذلحين|now)\b)|\by?ra(?:q|"
    r"k|2|g)b\w*\b.{0,32}\b(?:bait|beit|bet|"
    r"dar|house)\b|\bwatching\b.{0,20}\b(?:now|house|home)\b"
)
# Taken by Maghrebi verbs ("ddawh": they took him).
_MAGHREB_TAKEN = (
    r"\b(?:ddawh|ddawha|ddaweh|ddawhom|ddawni|ddawna|chedouh|chedduh|chaddouh|cheddouh|"
    r"hazouh|hazuh|شدوه|شدوها|شدوني|داوه|داوها|هزوه)\b"
)
_DISAPPEARED = (
    r"\b(?:no one|nobody|no-one|we don'?t|we do not) (?:knows?|know) where (?:he|she|they) "
    r"(?:is|are|was taken)\b|\bwhereabouts (?:are )?unknown\b|\bhas(?:n'?t| not) (?:come back|"
    r"returned|called)\b|\b(?:و|ف)?(?:مختفي|مختفيه|مفقود|اختفي|اختفت|اختفوا|ما حدا بيعرف وين|"
    r"ما حدا يعرف وين|محدش يعرف (?:هو )?(?:مكانه|مكانها|فين|وين)|محدش عارف (?:مكانه|فين)|"
    r"ما نعرف وين|ما منعرف وين|ما نعرف مكانه|ما نعرفش فين|منعرفش فين|ماعرفناش فين|ما عرفنا وين|"
    r"ما نعرفوش وين|ماكو خبر|ما في خبر عنه|ما في اي خبر|ما اجانا خبر|مكانه مجهول|مصيره مجهول|"
    r"مجهول المصير|لا نعلم مكانه|mako khabar|mako 5abar|mafi 5abar|ma3rfna wen|"
    r"ma3rafna wen|ma na3rfouch win|ma n3rfouch win|ma n3rfoch win|ma na3rafch win|ما رجع|"
    r"مارجعش|ما رجعش|لم يعد|mafi khabar|ma 7ada bya3ref wen|"
    r"mahadesh y3raf fen|ma n3rfouch fin|ma3rafnach fin|mkhtfi|mafqud|"
    r"mafqoud|mkhtafi|mokhtafi|m5tafi|mafqood|mafgood)\b|"
    r"\b(?:و|ف)?م\w{0,3}عرف\w*ش\s(?:\S+\s)?(?:وين|فين|مكان\w*|اين|وينو|فينو|وينه|فينه)|"
    r"\b(?:و|ف)?(?:ما|لا|مش|محد|محدش|ماحد|ما حد|ولا حد|ولا احد|ما حدا|ومحد|ومحدش|ولا)\s?(?:\w+\s)?"
    r"(?:نعرف\w*|عرفنا\w*|عرف\w*|منعرف\w*|يعرف\w*|ندري|"
    r"يدري|عارفين|معروف|بيقول|يقول\w*|يگل\w*|قال\w*|"
    r"نعلم|يعلم)\s.{0,20}?(?:وين|فين|مكان\w*|فينه|وينه|وينو|اين)|"
    r"\b(?:و|ف)?(?:لا|ما|ما في|مافي|ما كاين|ما كاش|ماكاش|ما فما|مافيش|مفيش|ماكو|بلا|لا حس لا|حتي)\s"
    r"(?:حتي |اي |أي )?خبر\b|\bمجهول\w*|\b(?:غبر|اتاخد|اتخطف|تخطف|انخطف)\b|"
    r"\b(?:ma|la|msh|mish|w ma|w la)\s?(?:\w+\s)?(?:n?3rf\w*|na3r\w*|nadri|ndri|mna3ref|ma3rouf|"
    r"3rfna\w*|3r[ae]f\w*|y3raf|ya3ref|bya3ref|y2elna|ygool\w*|y9ol\w*|nidri|yidri)\s.{0,15}?"
    r"(?:wen|win|fin|fen|wain|wein|wayn|fein|makan\w*|3ana shay)|"
    r"\b(?:la|ma|mafi|ma kayn|makaynch|ma kaynch|mako|w ma kayn)\s(?:7ta |7atta )?(?:khbar|5abar|"
    r"khabar|5bar)\b|\bmajh?ool\b|\bmajhoul\b|\b(?:ghbar|e5tifa|ekhtafa|ikhtafa|enkhataf|t5tef|"
    r"vanished)\b|\bno news\b|\bnobody knows where\b|"
    r"\b(?:ma|w ma) (?:reje3|rje3|rja3|raja3|rija3)\b|"
    r"\b(?:ma ?rj3ch|ma ?rje3ch|ma ?rja3ch|مارجعش)\b|\b(?:و)?(?:ما بانش|مابانش|ما ظهر|"
    r"ماظهرش|ما ظهرش|لم يظهر|ma banch|ma dhahar)\b|"
    r"\b(?:ان|ت)?(?:قطع|قطعت|قطعو|قطعات)\w* (?:\S+ )?(?:ال)?(?:اخبار|خبر|اتصال)\w*|"
    r"\b(?:ال)?اخبار\w* (?:ان|ت)?قطع\w*|\b(?:ما|محد|ولا حد|ما حد|ما حدا|محدش|حتي حد)\s(?:\S+\s)?"
    r"سمع\w* (?:عنه|عنو|عنها|منه|منو|منها|عليه|خبر)|\bما عندنا (?:حتي |اي )?خبر|"
    r"\bما (?:عارفين|نعرف|نعرفو) (?:عنو|عنه|عنها|عليه) (?:حاجه|شي|اي شي)|"
    r"\bhaven'?t heard (?:from|anything)|\bno word from|\blost (?:contact|touch) with|"
    r"\b(?:t9at3|tqat3|ngat3|n9at3|angat3|in9ata3|n2ata3|t2ata3)\w* (?:\S+ )?(?:l|la|el )?"
    r"(?:akhbar|5bar|khbar|khabar|lakhbar)\w*|\b(?:ma|w ma) 7ada? sme3 3an\w*|"
    r"\b(?:اتخطف|تخطف|انخطف)\w*"
)
# Not back, or the phone off: a fresh disappearance with a recent-marker ("من البارح"),
# not "ما رجعش الرد من المحامي" or a broken phone.
_NOT_BACK = (
    r"\bma ?r[ei]?j[ea]?3(?:at)?(?:ch|sh)\b|\b(?:و)?(?:ما ?|م)رجع(?:ش|اتش|تش|وش)\b|"
    r"\b(?:و|ف|w )?(?:tilifoun|tilifoon|tilifoona|telefono|telefon|tilifon|jawal|jawwal|mobile|"
    r"mobayl|hatif|hatef|telephone|phone|تلفون|تليفون|تيليفون|تاليفون|موبايل|جوال|هاتف|بورطابل)"
    r"\w* (?:\S+ )?(?:msdoud|msakkar|msakar|maqfoul|mtafi|m9foul|maghlag|maghloog|mghlag|"
    r"ma2fool|m2fool|tafi|mqfoul|مسكر|مقفول|مقفل|مغلق|مطفي|طافي|مسدود|مغلوق|(?:is |was )?off|"
    r"switched off|dead)\b"
)
# Self-harm or suicide risk.
_SELF_HARM = (
    r"\b(?:kill myself|end my life|end it all|take my (?:own )?life|suicid\w*|want to die|"
    r"wanna die|wish i (?:was|were) dead|better off dead|don'?t want to (?:live|be alive)|"
    r"no reason to live|can'?t go on|hurt myself|harm myself|cut myself|self.harm|"
    r"انتحر|انتحار|بنتحر|رح انتحر|بدي انتحر|حنتحر|هنتحر|سانتحر|افكر بالانتحار|افكر في الانتحار|"
    r"بدي موت|بدي اموت|بدي اموت حالي|اقتل حالي|اقتل نفسي|اقتل روحي|اموت حالي|اموت نفسي|"
    r"انهي حياتي|اخلص من حياتي|خلص من حياتي|خلص حياتي|اخلص حياتي|ما بدي عيش|ما عاد بدي عيش|"
    r"ما عاد بدي اعيش|"
    r"مش عايز اعيش|مش عاوز اعيش|مش عايزه اعيش|عايز اموت|عاوز اموت|نفسي اموت|ابي اموت|ابغى اموت|"
    r"ابغي اموت|اريد اموت|اريد ان اموت|اريد انتحر|داير اموت|داير انتحر|دايره اموت|اشتي اموت|"
    r"اشتي انتحر|بغيت نموت|بغيت ننتحر|نقتل راسي|نقتل روحي|نموت روحي|نحب نموت|"
    r"حابب نموت|نحرق روحي|نحرق راسي|نذبح روحي|ما بقيتش باغي نعيش|ما عاد اريد اعيش|"
    r"ente7er|ent7er|inti7ar|ente7ar|bade mout|badde mout|badi mot|bdi mot|bde mout|"
    r"3ayez amout|3ayz amot|3awez amoot|abi amoot|abgha amoot|areed amoot|bghit nmout|"
    r"n9tel rasi|nqtel rasi|n9tel rou7i|nmout rou7i|n7areg rou7i|na7reg rou7i|"
    r"ma bade 3ish|ma badi 3ish|msh 3ayez a3ish)\b|"
    # a verb of killing or dying with "myself" (روحي، نفسي، حالي، راسي), any dialect
    r"\b(?:و|ف)?(?:ا|ب|ح|ه|س|ن|بن|حا|رح ا|راح ا|غادي ن|باش ن|راح ن)?(?:قتل|كتل|موت|رمي|حرق|ذبح|"
    r"نحر|شنق)\s(?:روحي|نفسي|حالي|راسي)\b|\b(?:اموت|نموت) و ?(?:ارتاح|نرتاح)\b|"
    r"\b(?:اخلص|خلص|نخلص|اتخلص) من (?:ها|هال|هاي ال|هذي ال|ال)?حيا[هت]\w*|"
    r"\b(?:n|a|e|ba|bn|ghadi n|ra7 e|ra7 a)?(?:qtel|9tel|ktel|2tol|gtil|ktil|qtil|mawwet|mout|"
    r"moot|ra9i|rmi|7ra9|7reg|dhba7|thba7|dba7)\w* (?:rassi|rasi|rou7i|ro7i|rou7y|nafsi|7ale|"
    r"7aly|7ali)\b|\b(?:nmout|amoot|amout|mout) w (?:nrta7|arta7|narta7|nrtah)\b|"
    r"\bkhall?es men (?:hal |el )?7ay|\benhi 7ayat|\b(?:i want|i wanna|want) to die\b|"
    r"\b(?:ننتحر|نتحر|nnt7er|nt7er|nt7ar|nenta7er|nenta7ar|ntahar)\b|"
    # "ما بقيتش قادر نعيش", "لم أعد أرغب في الحياة", "ma b9itch 9ader n3ich"
    r"\b(?:ما|لم|مش|مو|لا|ma|msh|mish)\s(?:عاد |اعد |عدت |بقيت\w* |b9it\w* |bqit\w* |3ad )?"
    r"(?:بدي|عايز|عاوز|ابي|ابغي|اريد|داير|باغي|قادر|اقدر|ارغب|نحب|نحبش|bghit|baghi|9ader|qader|"
    r"badde|bade|abi|3ayez|abgha|abgh|baddi|biddi|bidi|areed|n7eb|n7ebch)\s(?:\S+\s)?"
    r"(?:اعيش|نعيش|n3ich|n3ish|a3ish|a3eesh|3ich|في الحياه|الحياه|في العيش|العيش|العيشه)\b"
)
_SAFE_NOW = (
    r"\b(?:(?:i am|i'm|im|we are|we're|he is|he's|she is|she's|they are|they're)(?: now)? "
    r"(?:safe|fine|ok|okay|released|free|out of prison|home)|released|set free|was freed|"
    r"بامان|بخير|افرج\w* عن\w*|اطلقوا سراح\w*|اطلق سراح\w*|طلع من السجن|طلعوه|رجع عالبيت|"
    r"رجع للبيت|رجع البيت|خرج من السجن|سيبوه|خلوا سبيله|خرجت|سيبوني|سرحوني|طلقوني|"
    r"افرجوا عني|b ?aman|b ?amen|bkhair|b5eir|"
    r"tla9 sra7o|tlqo sra7o|sra7o|tele3|tle3|tla3|tala3|khrej|5rej|kharaj|sayyboh|"
    r"sabouh|atla9o|(?:و|ف|وف|في )امان|لاباس|مزيان|labas|mzyan|f aman)\b"
)

_DETAINED = (
    r"(?:سجن|السجن|حبس|الحبس|حجز|الحجز|توقيف|التوقيف|معتقل|المعتقل|موقوف|محبوس|مسجون|زنزان\w*|"
    r"كوميسار\w*|بوسته|البوسته|الحراسه|حراسه|المركز|custody|detained|detention|cell|prison|jail|"
    r"lockup|l7abs|7abs|7bes|sijin|sijn|sejen|tawgeef|tawgif|commissariat|zenzane|maw2ouf|mawgoof|"
    r"m7bous|ma7bous|mo3ta2al|منفرد\w*|المنفرد\w*|انفرادي\w*|solitary|far3|garde|l far3|فرع|"
    r"الفرع|(?:ال)?قسم|محجوز\w*|حابس\w*|(?:ال)?نظاره|nazara|nadhara|(?:ال)?موقف|"
    r"محتجز\w*|(?:ال)?احتجاز|بوسطه|البوسطه|ma3takal|mo3takal|m3ta2al|"
    r"ma3ta2al|m7tajaz|mo7tajaz|zenzene|zinzana|tawqeef|qism|9ism|el 9ism)"
)
_MEDICINE = (
    r"(?:(?:ال)?(?:دوا|دواء)\w{0,3}|(?:ال)?(?:حقنه|حقن|ابر|ابره|حبوب\w*)|7boob\w*|7bob\w*|"
    r"pills|injections?|ebar|inhaler|(?:ال)?بخاخ\w*|(?:ال)?علاج\w{0,2}|ادويه|"
    r"ادويته|علاج|العلاج|علاجه|انسولين|الانسولين|الدوا|الدواء|dwa|dawa|"
    r"dowa|dawah|3ilaj|3laj|insulin|insuline|treatment|medicine|medication|meds)"
)
_REFUSED = (
    r"(?:\b(?:و|ف)?(?:ما|مش|مو|لا)\b|\bمن غير\b|\bبدون\b|\bبلا\b|منع\w*|حارم\w*|رافض\w*|يرفض\w*|"
    r"\bرفض\w*|ويرفض\w*|يمنع\w*|مانع\w*|حرم\w*|"
    r"يحرم\w*|محروم\w*|\bما\w*(?:وش|هش|ش)\b|مايد\w*|مانط\w*|\bma\b|\bmsh\b|\bmish\b|"
    r"mani3\w*|mane3\w*|mamno3\w*|mamnoo3\w*|\bma\w*(?:ch|sh)\b|\bdeny|\bdenied|won'?t|\bno\b|"
    r"without|refus\w*)"
)
_MEDICAL_ORDERLESS = (  # "عنده سكري وما يعطوه الدوا", "dwa ma kay3tiwhch": any order, one text
    r"^(?=.*\b(?:و|ف|ب|بال|وبال|فال|ل|لل|f |fel |bel |b |f l)?" + _DETAINED + r"\b)"
    r"(?=.*\b(?:و|ال|وال)?" + _MEDICINE + r"\b)(?=.*" + _REFUSED + r").*|"
    r"\b(?:طاح|وقع|سقط|ta7|wa2a3|w9a3|wi2i3)\w*\b.{0,40}(?:ما فاق\w*|ما بصحى|ما يصحى|ما صحي|"
    r"مغمي\w*|"
    r"ما قام|ما قعد|مش بيرد|ما بيرد|ما يرد|ما رد\w*|مابيردش|ما صحا|ma gaam|ma 2am|ma qam|"
    r"ma sa7a|mish biyrod|msh byrod|ma fa9|ma faq|"
    r"ما يتنفس\w*|ma fa9\w*|ma fa2\w*|maghma\w*)|"
    r"\b(?:مغمي عليه\w*|maghma 3l\w*|fainted|collapsed)\b|"
    r"\bمضرب\w* (?:عن|علي|ع) (?:ال)?(?:طعام|اكل|ماكله|اكله)\b|"
    r"\b(?:modhrib|modhreb|medreb|mdreb|modreb|mdrb|modrib|edrab|mudrib)\w* (?:3a|3la|3an|3n) "
    r"(?:el |l)?(?:akel|akil|akl|makla|lmakla|ta3am|mekla)\b|"
    r"\bما (?:بي|ي)?تنفس\w*"
)

# Cues read on the whole message: their parts may sit in different clauses ("they arrested
# my nephew, he is only 14"; "عنده سكري، وما يعطوه الدوا").
_CHILD_AGE = (  # "ابني ١٤ سنة اتاخد", "weldi 3ndo 13 3am chddouh", "he is only 14"
    r"^(?=.*\b(?:اعتقل\w*|معتقل\w*|خطف\w*|مخطوف\w*|اخد\w*|اخذ\w*|خذو\w*|خدو\w*|اتاخد|شالو\w*|"
    r"شدو\w*|داو\w*|هزو\w*|موقوف\w*|محتجز\w*|محبوس\w*|قبضوا\w*|arrest\w*|detain\w*|took|taken|"
    r"held|abduct\w*|kidnap\w*|chddou\w*|daw\w*|5athoo\w*|5athaw\w*|akhado\w*|e3ta2al\w*|"
    r"خداو\w*|اداو\w*|khdaw\w*|5daw\w*|"
    r"mawgoof\w*|m7tajaz\w*|khataf\w*|5ataf\w*|khtf\w*|5tf\w*|khatf\w*|5atf\w*)\b).*\b(?:و)?(?:عمره|"
    r"عمرو|عمرها|عنده|عندو|عندها|3omra|3emro|3mro|3omro|3ndo|3ando|3omraha|3omrha|"
    r"3emra|3ndha|3andha|sghira|sghir|صغيره|صغير|"
    r"only|aged?|ابني|ابنتي|بنتي|ولدي|وليدي)\s(?:[1-9]|1[0-7])\s?(?:سنه|سنين|سنوات|عام|اعوام|sana|"
    r"sene|3am|years?|yo)?\b(?! years? ago)"
)
_CHILD_TAKEN = (  # "اعتقلوا ابنة عمي وهي طفلة", "شالوا بت عمي وهي شافعة"
    r"\b(?:اعتقل\w*|خطف\w*|اختطف\w*|اخد\w*|اخذ\w*|خذو\w*|خدو\w*|خداو\w*|شالو\w*|شدو\w*|داو\w*|"
    r"هزو\w*|قبضو\w*|حكمو\w*|اتخطف\w*|khataf\w*|5ataf\w*|khtf\w*|grabbed|chddou\w*|"
    r"daw\w*|ddaw\w*|5athaw\w*|akhado\w*|arrest\w*|took|taken)\b.{0,40}"
    r"\b(?:وهو|وهي|هو|هي|w howa|w hiya|w hia|w huwe|w huwa|w hiye|w howwa|he is|she is|he's|"
    r"she's)\s(?:\S+\s)?(?:طفل|طفله|قاصر|قاصره|شافع|شافعه|tfel|tfla|9aser|qaser|2aser|2asser|"
    r"qasir|9asra|qasra|a child|a minor)\b"
)
_WHOLE_CUES: tuple[tuple[str, str, str], ...] = (
    (CHILD, "none", _CHILD_TAKEN),
    (MEDICAL, "state", _MEDICAL_ORDERLESS),
    (CHILD, "none", _CHILD_AGE),
)

_CUES += (
    (IMMEDIATE, "now", r"\b\w*d(?:o|ou)?(?:99|qq|22)\w*\b"),  # "kayd99o daba": knocking now
    (SELF_HARM, "none", _SELF_HARM),
    (MEDICAL, "state", _MEDICAL_CUES),
    (CHILD, "none", _CHILD_CUES),
    (WATCHED, "none", _WATCH_CUES),
    (ARREST, "none", r"\b(?:rah|راه|راهم)\b.{0,25}" + _MAGHREB_TAKEN),
    (ARREST, "recent", _MAGHREB_TAKEN),
    (DISAPPEARED, "state", _DISAPPEARED),
    (DISAPPEARED, "recent", _NOT_BACK),
)

# More ways to say it, per dialect: bleeding or vomiting blood, fainting, hunger strike.
_MEDICAL_MORE = (
    r"\b\w{0,3}سيل\w*\s(?:\S+\s){0,2}(?:ال)?(?:دم|دمه|دمها)\b|"
    r"\b(?:ي|بي|عم ي|ب|ت|بت)?(?:رجع|ستفرغ|تقيا|قيء|ترجع)\w*\s(?:\S+\s)?(?:ال)?(?:دم|دمه)\b|"
    r"\b(?:kay|ki|ra|y|t)?s(?:i|ee)l\w* (?:\S+ ){0,2}(?:dem|dam|ddem|eddem)\b|"
    r"\b(?:dem|dam|eddem|ddem) (?:kay|ki|ra|y|t)?s(?:i|ee)l\w*|"
    r"\b(?:ال)?دم\s(?:\S+\s)?\w{0,3}سيل\w*|"
    r"\b(?:yestafreg|yesta?fra2|yistafrigh|biyraga3|yraja3|byerja3)\w* (?:\S+ )?(?:dam|dem)\b|"
    r"\b(?:vomiting|coughing up|coughing|spitting|throwing up) blood\b|"
    r"\bm[ae]?gh?m[ai]y? 3[ae]?l\w*|"
    r"\b(?:و|ف)?(?:ال)?اضراب (?:عن|علي|ع) (?:ال)?(?:طعام|اكل|ماكله|اكله)\b|"
    r"\b(?:و|ف)?(?:ال)?اضراب (?:ال)?جوع\b|"
    r"\b(?:داير|دايره|عامل|عامله|دخل|دخلت) (?:في )?(?:ال)?اضراب\b|"
    r"\bhunger.strik\w*|"
    r"\b(?:edrab|idrab|i9rab) (?:3an |3la |3a )?(?:el |l)?(?:akl|makla|ta3am|jou3)\b"
)
_NOT_EATING = (  # "ما كلاش ما شربش", "لم يأكل ولم يشرب", "ma 3am yekol wala yeshrab"
    r"\b(?:و)?(?:ما|لم|مش|مو|م)\s?(?:\w+\s)?\w{0,4}(?:اكل|كل)\w*\s(?:و\s?)?(?:ما|لم|ولا|لا|ولم|وما|"
    r"ومش|مش)\s?\w{0,4}شرب\w*|"
    r"\b(?:ma|la|lam|msh|mish)\s(?:\w+\s)?\w{0,4}(?:kol|kla|kel|akil|akel|kal)\w*\s(?:w ?)?"
    r"(?:ma|la|wala|w la|w ma)\s?\w{0,4}(?:shrab|chrab|cherb|shreb|shrb|sharab|shrob|chreb)\w*|"
    r"\b(?:hasn'?t|has not|haven'?t|not|hadn'?t) (?:eaten|eating) (?:or|and|nor) "
    r"(?:drunk|drinking|drank)\b"
)
_WHOLE_CUES += (
    (
        MEDICAL,
        "state",
        r"^(?=.*\b(?:و|ف|ب|بال|وبال|فال|ل|لل|f |fel |bel |b |f l|in the )?"
        + _DETAINED
        + r"\b).*(?:"
        + _NOT_EATING
        + ")",
    ),
)
# Self-harm said in other words: "اخلص من الدنيا", "ودي اموت", "خلّص على حالي", "end it".
_SELF_HARM_MORE = (
    r"\b(?:اخلص|خلص|نخلص|اتخلص) من (?:ها|هال|هاي ال|هذي ال|ال)?دنيا\w*|"
    r"\b(?:و|ف)?(?:بدي|عايز|عاوز|عايزه|ابي|ابغي|ابغا|اريد|داير|دايره|اشتي|نفسي|ودي|بودي|حاب|حابه|"
    r"حابب|نحب|بغيت|نبغي|ناوي|ناويه) (?:ان |اني |انو )?(?:اموت|نموت|انتحر|ننتحر)\b|"
    r"\b\w{0,5}(?:قتل|كتل|ذبح|شنق|حرق|موت|رمي)\s(?:روحي|نفسي|حالي|راسي)\b|"
    r"\b(?:و|ف)?(?:س|ب|ح|ه|رح |راح |غادي |باش |با |ناوي |ناويه |بدي )?(?:ا|ن)نتحر\b|"
    r"\b(?:a|n|ba|bn|ra7 a|ghadi n|nawi a|bade a)?nta7[ie]r\b|"
    r"\bkhall?[aei]s\w* m[ei]n (?:hal |el |had )?(?:7ay|7ya|dinya|denya|donia)|"
    r"\b(?:ا|ن|ب)?خلص (?:علي|ع|عل) (?:حالي|روحي|نفسي|راسي)\b|"
    r"\bkhall?[ae]s (?:3a|3ala|3la|3al) (?:7ale|7ali|7aly|rou7i|ro7i|nafsi)\b|"
    r"\b\w{0,4}(?:qtel|9tel|ktel|2tol|gtil|ktil|qtil|thba7|"
    r"dhba7|dba7|7ra9|7reg|mawwet|rmi|ra9i)\w* "
    r"(?:rassi|rasi|rou7i|ro7i|nafsi|7ale|7ali|7aly)\b|"
    r"\b(?:w ?)?(?:wddi|widdi|wodi|nefsi|nifsi|bade|badde|baddi|bdi|3ayez|abi|abgha|areed|ariid|"
    r"bghit|n7eb|7ab) (?:an )?(?:amoot|amout|amut|nmout|nmoot|mout|moot)\b|"
    r"\b(?:اضع|نضع|احط|نحط) (?:حدا|حد|نهايه) ل?حياتي\b|\bانهاء حياتي\b|"
    r"\b(?:killing|kill|hurting|harming) myself\b|"
    r"\b(?:going to|gonna|want to|will|i'll|about to|ready to) end it\b|\bend my (?:own )?life\b"
)
# A child still held: "الطفل لسه محبوس", "الشافع مازال عندهم", "the boy is still being held".
_MEDICAL_MORE += (
    r"|\b(?:و|ف)?(?:حالت|صحت|وضع)\w* (?:ال)?(?:صحي\w* )?(?:تدهور|"
    r"ساء|سيئه|خطير|خطيره|صعبه|متدهور|تسوء)\w*|"
    r"\bتدهور\w* (?:حالت|صحت|وضع)\w*|\b(?:his|her|their) (?:health|condition) is (?:getting worse|"
    r"deteriorating|critical|very bad)|\bhealth (?:is )?deteriorat\w*|"
    r"\b\w{0,3}غيب\w* عن الوعي|\bفقد\w* الوعي|\bغايب\w* عن الوعي|"
    r"\b(?:took|taken|confiscated|took away) (?:his|her|"
    r"my|their) (?:medicine|medication|meds|insulin|"
    r"inhaler|pills)\b"
)
_SELF_HARM_MORE += (
    r"|\b(?:ا|ن)?(?:شرب|اخد|اخذ|بلع|ناخد|ناخذ|نبلع|نشرب)\s(?:\S+\s)?(?:ال)?(?:دوا|حبوب|ادويه)\w*\s"
    r"(?:كتير|كثير|كله|كلها|بزاف|برشا|زياده)\b|\bending my (?:own )?life\b|"
    r"\b(?:ما|مافي|ما في|ما عندي|ما بقاش عندي|ما بقا عندي|ماعنديش|ما عادش عندي) (?:\S+ ){0,2}"
    r"(?:علاش|ليش|لشو|سبب|شي يخليني) (?:ا|ن)?عيش\b"
)
_PLACE_AZ = (  # "barra el bet", "9dam dar": Arabizi at the house
    r"\b(?:barra|bara|9dam|odam|2odam|gdam|3and|3end|3ind|janb|ta7t|7da|outside) (?:el |l|d )?"
    r"(?:bet|beit|bait|dar|bab|binaye|3imara|house|door)\w*"
)
_CUES += (
    (IMMEDIATE, "now", _PLACE_AZ),
    (
        IMMEDIATE,
        "none",
        r"\b(?:rahom|rahoum|rahum|rahoma|راهم)\b.{0,15}(?:"
        + _PLACE_AZ
        + r"|\b"
        + _PLACE_PREP_AR
        + r"\s?"
        + _HOUSE_AR
        + r")",
    ),
)
_CHILD_STILL = (
    r"\b(?:ال|و|وال|el |l|the )?(?:طفل|طفله|شافع|شافعه|جاهل|جاهله|صغير|صغيره|دري|دريه|بزر|ولد|"
    r"tfel|tefl|tifl|sghir|sghira|sagheer|zghir|walad|child|boy|girl|kid|minor)\b.{0,20}?"
    r"\b(?:still|لسه|لسا|لسع|مازال|ما زال|مازالت|لا يزال|لا تزال|بعده|بعدو|بعدها|لليوم|للحين|"
    r"ba3do|ba3da|mazal|mazel|mazzal|lissa|lessa|lil7een)\b.{0,25}?"
    r"\b(?:عندهم|عدهم|لديهم|عندن|محبوس\w*|محتجز\w*|محجوز\w*|معتقل\w*|موقوف\w*|مخطوف\w*|3ndhom|"
    r"3andhom|3andon|3ndahom|3endhom|3andhum|m7tajaz|ma7bous|m7bous|held|detained|in custody|"
    r"with them|locked up)"
)
_CHILD_AGE_WORDS = (  # "اختطف ولدي ذو التسع سنوات", "بنت خالتي ١٤ سنة اتخطفت"
    r"^(?=.*\b(?:اعتقل\w*|خطف\w*|اختطف\w*|اتخطف\w*|اخد\w*|اخذ\w*|خذو\w*|خدو\w*|شالو\w*|شدو\w*|"
    r"داو\w*|هزو\w*|حكمو\w*|اتاخد\w*)\b).*\b(?:بنت|ابن|ولد|بن|ود|wld|weld|bent|ebn|ibn)\w*\s"
    r"(?:\S+\s)?(?:[1-9]|1[0-7])\s?(?:سنه|سنين|سنوات|عام|sana|sene|snin|3am|years?)\b|"
    r"\b(?:اعتقل\w*|خطف\w*|اختطف\w*|اخذ\w*|اخد\w*|خذو\w*|خدو\w*|شالو\w*|شدو\w*|داو\w*|هزو\w*)\b"
    r".{0,30}\b(?:ذو|ذات|البالغ|البالغه|عمره|عمرها|عمرو)\s(?:من العمر\s)?(?:ال)?"
    r"(?:ثلاث|اربع|خمس|ست|سبع|ثمان|تسع|عشر|سنتين)\w*"
)
_CUES += (
    (MEDICAL, "state", _MEDICAL_MORE),
    (SELF_HARM, "none", _SELF_HARM_MORE),
    (CHILD, "none", _CHILD_STILL),
    (CHILD, "none", _CHILD_AGE_WORDS),
)

_ASKING_NOW = (  # plain clothes at the building, "asking for me": with a now-marker
    r"\b(?:بالسيفيل|السيفيل|مدني|مدنيه|بلباس مدني|b civil|bel civil|en civil|madani|madaniya|"
    r"plain ?clothes\w*)\b|\b(?:بي|ي|عم ي|كي|قاعدين ي)?سال(?:و|"
    r"ون|وا)\s(?:عليا|عني|علي|عنا|علينا)\b|"
    r"\b(?:yes2alo|yas2alo|biyes2alo|kaysawlo|kays9sio|ys2aloon) (?:3anne|3ani|3lia|3liya|3anna)\b|"
    r"\basking (?:for|about) (?:me|us)\b"
)
_CUES += ((IMMEDIATE, "now", _ASKING_NOW),)

_NOW = (
    r"\b(?:now|right now|currently|at the moment|at this moment|as we speak|as i write|"
    r"immediately|hurry|asap|urgent|urgently|tonight|الان|الحين|هلق|هلء|هسه|هسا|"
    r"هسع|دلوقتي|دلوقت|دحين|توا|دابا|درك|حاليا|في هذه اللحظه|هاللحظه|بهاللحظه|هالحين|"
    r"فورا|بسرعه|ضروري|عاجل|مستعجل|لحد الان|لهلق|هاي اللحظه|hala2|halla2|hal2|daloa2ti|"
    r"dilwa2ti|delwa2ty|dlw2ty|el7in|hal7in|7alan|hasa|hessa|fawran|daba|dba|drk|daroka|tawa|"
    r"taw|دروك|دركا|دلوقت|هسع|هاذي اللحظه|هسي|هسى|ذلحين|ذالحين|ذحين|دحين|الحين|للحين|لليوم|"
    r"hassi|hessi|halla|al7een|el7een|lil7een|dl7in|dal7in|dorka|drok)\b|(?<=\S )هلا\b"
)
_RECENT = (
    r"\b(?:today|this morning|this evening|tonight|last night|yesterday|just now|"
    r"(?:a few |few |\d+ |an |one |two |half an )?(?:minutes?|hours?|hrs?|mins?) ago|"
    r"earlier today|at dawn|اليوم|الليله|هالليله|الصبح|الصباح|هالصبح|المسا|الفجر|النهارده|"
    r"انهارده|النهار ده|هالفجر|el fajr|l fjer|lfjer|fajr|sba7|sbe7|el sob7|el sa?ba7|"
    r"naharda|ennaharda|el naharda|el yom|lyouma|lyoum|قبل ساعه|"
    r"قبل ساعتين|قبل ساعات|قبل شوي|من شوي|من شويه|قبل شويه|من شويا|قبل قليل|قبل دقايق|قبل دقيقه|"
    r"من ساعه|من ساعتين|"
    r"امبارح|مبارح|البارحه|امس|bar7a|el bar7a|lbar7a|ليله امبارح|توه|للتو|منذ قليل|منذ ساعه|"
    r"منذ ساعتين|"
    r"قبل ربع ساعه|قبل نص ساعه|قبل \d+ (?:ساعات|ساعه|دقايق|دقيقه)|قبل يومين|lyom|el yom|elyom|"
    r"lyoum|ams|embare7|mbere7|mbare7|abl sa3a|2abl sa3a|men shway|abl shway|2abl shway|"
    r"since (?:yesterday|last night|this morning|two days|2 days|three days|3 days)|"
    r"(?:two|three|2|3) days ago|for (?:two|three|2|3) days|من امبارح|من مبارح|من البارحه|"
    r"من امس|من يومين|منذ يومين|منذ امس|من تلات تيام|من ثلاث ايام|منذ ثلاثه ايام|من 3 ايام|"
    r"هادي يومين|هادي تلت ايام|هادي جوج (?:ايام|يام)|hadi jouj (?:iyam|yam)|"
    r"البارح|lbare7|l bare7|mn lbare7|men lbare7|men yomin|"
    r"mn yomin|yomin hadi|men ams|mn ams)\b"
)
_PAST_WEAK = (
    r"\b(?:was|were|had been|used to|previously|when i was|back then|كان|كانوا|كانو|كنت|كنا|"
    r"كانت|سابقا|kan|kano|kanu|kanaw|kanou|kanet|kenet|kunt|kenna|kunna|kint)\b"
)
_PAST_STRONG = (
    r"\b(?:last (?:year|month|week|summer|winter)|(?:years?|months?|weeks?) ago|in (?:19|20)\d\d|"
    r"back in|long ago|in the past|(?:19|20)\d\d|زمان|في الماضي|"
    r"(?<!من )وقتها|ساعتها|وقتيها|(?:قبل|منذ|من) (?:\S+ )?(?:سنه|"
    r"سنتين|سنين|سنوات|اشهر|شهر|شهرين|شهور|"
    r"اسبوع|اسبوعين|"
    r"اسابيع|عام|عامين|اعوام)|السنه الماضيه|العام الماضي|الشهر الماضي|الاسبوع الماضي|"
    r"abl sene|2abl sene|abl snin|men zaman|zaman|"
    r"(?:gabl|9bel|qabl|abl|2abl) (?:\S+ )?(?:sana|sanatain|sanatein|sene|snin|sneen|sinin|shahr|"
    r"shhar|ashhor|3am|3amein|3amin|asabi3)\w*)\b"
)
_SINCE = (
    r"\b(?:(?:for|since) (?:\d+ |a |two |three |several )?(?:weeks?|months?|days?)|"
    r"(?:من|منذ|صارله|صارلو|صار له|بقاله|بقالو|له|عنده|هادي) (?:\d+ )?(?:اسبوع|اسبوعين|اسابيع|"
    r"شهر|شهرين|اشهر|شهور|ايام|يومين|جمعه|جمعتين)|men osbou3|mn jem3a|men shahr)\b"
)
_NEGATORS = frozenset(
    "not no never nobody isn't aren't ain't wasn't don't doesn't nothing without "
    "ما مش مو لا لم لن ليس لست ليست لسنا غير مافي مافيش مفيش ماكو ماكاين مكاينش ماني مانيش "
    "مب msh mish mesh mush mo mu mafi mafish mani".split()
)
_CLAUSE_SPLIT = re.compile(
    r"[.!?؟،,;؛\n]+|\s(?:but|however|although|though|لكن|بس|بينما|bas|"
    r"walakin|lakin|lakn)\s"
)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@cache  # once per process: with more than re's 512 cached patterns in use, each new
# detector (every interpreter has one) compiled them all again, 65 ms
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
        self._whole_cues = tuple(
            (reason, needs, _compile(src)) for reason, needs, src in _WHOLE_CUES
        )
        # One scan that says whether any cue can match: most messages carry none.
        self._any_cue = _compile("|".join(f"(?:{src})" for _, _, src in _CUES))
        self._now = _compile(_NOW)
        self._recent = _compile(_RECENT)
        self._past_weak = _compile(_PAST_WEAK)
        self._past_strong = _compile(_PAST_STRONG)
        self._safe = _compile(_SAFE_NOW)
        self._since = _compile(_SINCE)
        self._threat = _compile(_THREAT_WORDS)
        self._soon = _compile(_SOON)
        self._withdraw = _compile(_WITHDRAW_DEMAND)
        self._condition = _compile(_CONDITION)

    def detect(self, normalised: str) -> Urgency:
        """Assess `normalised` (output of `normalise_arabic`)."""
        reasons: list[str] = []
        whole = self._markers(normalised)
        # Most messages carry no cue: one pass over the whole text finds the cues that can
        # match at all, and only those are tried clause by clause.
        present = (
            tuple(c for c in self._cues if c[2].search(normalised))
            if self._any_cue.search(normalised)
            else ()
        )
        for clause in _CLAUSE_SPLIT.split(normalised) if present else ():
            if not clause.strip():
                continue
            cues = self._cues_in(clause, present)
            if not cues:
                continue
            markers = self._markers(clause)
            if not any(markers):
                markers = whole
            if self._found(self._safe, clause):  # "now he is released": a past event
                markers = (False, False, True, markers[3], False)
            for reason, needs in cues:
                if _fires(needs, *markers) and reason not in reasons:
                    reasons.append(reason)
        # "sant 2016 ... w halla2 tele3": a whole-message cue is a past event once the
        # message says the person is out and safe now, like a clause cue.
        settled = (
            (False, False, True, whole[3], False) if self._found(self._safe, normalised) else whole
        )
        for reason, needs, pattern in self._whole_cues:
            if (
                reason not in reasons
                and _fires(needs, *settled)
                and self._found(pattern, normalised)
            ):
                reasons.append(reason)
        if not whole[3]:  # a threat with a near time, or one tied to withdrawing a complaint
            threat = self._found(self._threat, normalised)
            if threat and self._found(self._soon, normalised):
                reasons.append(THREAT_TIME)
            # no negation check: "if you don't withdraw" is how the condition is said
            if self._withdraw.search(normalised) and (
                threat or reasons or self._condition.search(normalised)
            ):
                reasons.append(THREAT_WITHDRAW)
        return Urgency(bool(reasons), tuple(dict.fromkeys(reasons)))

    def now(self, normalised: str) -> bool:
        """Whether the text says "now" ("هلق", "daba", "right now"), not taken back."""
        return self._found(self._now, normalised)

    def past(self, normalised: str) -> bool:
        """Whether the text speaks of the past ("كنت", "وقتها", "in 2019")."""
        return bool(self._past_weak.search(normalised) or self._past_strong.search(normalised))

    @staticmethod
    def _found(pattern: re.Pattern[str], text: str) -> bool:
        """A match of `pattern` in `text` that no negator just before takes back."""
        return any(not _negated(text, m.start()) for m in pattern.finditer(text))

    def _markers(self, text: str) -> tuple[bool, bool, bool, bool, bool]:
        return (
            bool(self._now.search(text)),
            bool(self._recent.search(text)),
            bool(self._past_weak.search(text)),
            bool(self._past_strong.search(text)),
            bool(self._since.search(text)),
        )

    def _cues_in(
        self, clause: str, cues: tuple[tuple[str, str, re.Pattern[str]], ...]
    ) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for reason, needs, pattern in cues:
            for match in pattern.finditer(clause):
                if not _negated(clause, match.start()):
                    found.append((reason, needs))
                    break
        return found


def _fires(
    needs: str, now: bool, recent: bool, weak_past: bool, strong_past: bool, since: bool = False
) -> bool:
    """Apply the time markers of a clause to a cue of kind `needs`.

    "state" cues (on hunger strike, without medicine, whereabouts unknown) are still true
    "since two weeks": a duration does not make them past.
    """
    if now:
        return True
    if needs == "state":
        return recent or not (weak_past or (strong_past and not since))
    if needs == "now":
        return False
    if needs == "recent":
        return recent and not strong_past
    return recent or not (weak_past or strong_past)


def _negated(clause: str, start: int) -> bool:
    """True when one of the four words before `start` is a negator."""
    before = _WORD.findall(clause[:start])[-4:]
    return any(w in _NEGATORS for w in before)
