"""Intent recognition across English, MSA, dialects and Arabizi."""

from __future__ import annotations

import pytest

from nlu import RuleInterpreter

INTENT_EXAMPLES: dict[str, list[str]] = {
    "greet": [
        "hi",
        "Hello",
        "good morning",
        "مرحبا",
        "السلام عليكم",
        "هلا",
        "أهلين",
        "صباح الخير",
        "marhaba",
        "salam",
    ],
    "thanks": [
        "thanks",
        "thank you",
        "شكرا",
        "شكراً جزيلاً",
        "مشكور",
        "يعطيك العافية",
        "تسلم",
        "merci",
        "shukran",
        "يسلمو",
    ],
    "affirm": [
        "yes",
        "yeah",
        "yep",
        "ok",
        "sure",
        "agree",
        "I agree",
        "yes please",
        "نعم",
        "أجل",
        "ايوه",
        "أيوا",
        "اه",
        "آه",
        "إي",
        "ايه",
        "اي نعم",
        "طيب",
        "موافق",
        "موافقة",
        "أوافق",
        "تمام",
        "ماشي",
        "يب",
        "wakha",
        "واخا",
        "ih",
        "aywa",
        "na3am",
        "eh",
        "mwafe2",
        "لا بأس",
        "مش مشكلة",
        "نعم!",
        "Yesss",
        "OK.",
    ],
    "deny": [
        "no",
        "nope",
        "no thanks",
        "not now",
        "don't",
        "لا",
        "لأ",
        "لاء",
        "لا شكرا",
        "مش موافق",
        "la",
        "la2",
        "laa",
        "mish mwafe2",
        "msh 3ayez",
        "لاااا",
        "Noooo",
        "ما بدي",
        "مابدي",
        "لا ما بدي",
        "مش عايز",
        "ما ابغى",
    ],
    "dont_know": [
        "don't know",
        "I don't know",
        "not sure",
        "no idea",
        "ما بعرف",
        "مش عارف",
        "لا أعرف",
        "ما اعرف",
        "مدري",
        "ماادري",
        "معرفش",
        "ma ba3ref",
        "mesh 3aref",
        "mdri",
        "مش متأكد",
    ],
    "skip": [
        "skip",
        "pass",
        "next",
        "prefer not to say",
        "skip it",
        "تخطي",
        "تجاوز",
        "بلاش",
        "التالي",
        "ما بدي جاوب",
        "لا أريد الإجابة",
        "5alas skip",
        "خلص تخطي",
        "skip please",
    ],
    "go_back": ["back", "go back", "previous", "رجوع", "ارجع", "رجعني", "السابق", "erja3"],
    "quick_exit": [
        "exit",
        "quit",
        "stop",
        "delete everything",
        "خروج",
        "اطلع",
        "امسح كل شي",
        "احذف",
        "إنهاء",
        "khrooj",
        "stop now",
    ],
    "help": [
        "help",
        "?",
        "؟",
        "help me",
        "مساعدة",
        "ساعدني",
        "مش فاهم",
        "I don't understand",
        "ما فهمت",
        "شو يعني",
    ],
    "ask_human": [
        "talk to a person",
        "human",
        "بدي احكي مع حدا",
        "موظف",
        "شخص حقيقي",
        "I want to talk to a person",
        "can I speak to someone please",
        "عايز اكلم حد",
    ],
    "change_language": [
        "English",
        "english please",
        "in english",
        "بالعربي",
        "عربي",
        "arabic",
        "3arabi",
        "بالإنجليزي",
    ],
    "report_complaint": [
        "I want to report torture",
        "بدي قدم شكوى",
        "تعرضت للتعذيب",
        "ضربوني بالسجن",
        "I want to make a complaint",
        "اريد تقديم شكوى",
        "they tortured me in the prison",
        "عذبوني بالفرع",
        "complaint",
    ],
    "report_reprisal": [
        "they threatened me because I talked to the UN",
        "عم يهددوني لأني حكيت مع الأمم المتحدة",
        "انتقام",
        "reprisal",
        "they fired me after I testified to the committee",
        "هددوني بعد ما تواصلت مع المفوضية",
    ],
    "withdraw_consent": [
        "withdraw my consent",
        "delete my report",
        "اسحب موافقتي",
        "احذفوا بلاغي",
        "I want to withdraw my complaint",
        "بدي اسحب الشكوى",
    ],
    "check_status": [
        "status of my case",
        "شو صار بقضيتي",
        "وين وصلت الشكوى",
        "any news about my case?",
        "what happened to my complaint",
        "حالة البلاغ",
        "status",
    ],
    "urgent_danger": [
        "they are at my door right now",
        "هم عند الباب الآن",
        "اعتقلوا ابني قبل ساعة",
        "he is being beaten now",
        "عم يعذبوه هلق",
        "3am ydo2o el bab",
        "in danger now",
        "خطر الآن",
        "نجدة",
        "help they are coming",
        "SOS",
        "الحقوني",
    ],
    "done": ["done", "that's all", "خلص", "بس هيك", "تم", "خلاص", "khalas", "I'm done"],
}

CASES = [(intent, text) for intent, texts in INTENT_EXAMPLES.items() for text in texts]


@pytest.mark.parametrize(("intent", "text"), CASES)
def test_intent(interpreter: RuleInterpreter, intent: str, text: str) -> None:
    result = interpreter.interpret(text)
    assert result.intent == intent, text
    assert 0.5 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    "text", ["yes", "نعم", "موافق", "la2", "تخطي", "رجوع", "خروج", "English", "شكرا"]
)
def test_whole_message_lexicon_hit_is_fully_confident(
    interpreter: RuleInterpreter, text: str
) -> None:
    assert interpreter.interpret(text).confidence == 1.0


def test_partial_hit_is_less_confident(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("hello, I want to report torture")
    assert result.intent == "report_complaint"
    assert result.confidence < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "مش موافق",
        "غير موافق",
        "ما بدي",
        "مابدي",
        "مو موافق",
        "لا ما بدي",
        "not ok",
        "i don't agree",
        "I do not agree",
        "mish mwafe2",
        "مش تمام",
        "not okay",
        "لا أوافق",
        "لست موافقا",
    ],
)
def test_negation_wins_over_affirmation(interpreter: RuleInterpreter, text: str) -> None:
    assert interpreter.interpret(text).intent == "deny"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("لا أعرف", "dont_know"),
        ("no idea", "dont_know"),
        ("not sure", "dont_know"),
        ("لا بأس", "affirm"),
        ("no problem", "affirm"),
        ("لا أفهم", "help"),
        ("ما بدي جاوب", "skip"),
        ("delete my report", "withdraw_consent"),
        ("no more", "done"),
    ],
)
def test_longer_phrase_beats_its_first_word(
    interpreter: RuleInterpreter, text: str, intent: str
) -> None:
    assert interpreter.interpret(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("stop", "quick_exit"),
        ("exit", "quick_exit"),
        ("خروج", "quick_exit"),
        ("please stop", "quick_exit"),
        ("skip", "skip"),
        ("تخطي", "skip"),
        ("back", "go_back"),
        ("رجوع", "go_back"),
        ("help", "help"),
        ("English", "change_language"),
    ],
)
def test_short_commands_work_while_answering_free_text(
    interpreter: RuleInterpreter, text: str, intent: str
) -> None:
    assert interpreter.interpret(text, expecting="text").intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "they told me to stop talking",
        "قالولي اسكت وإلا",
        "stop hitting me",
        "I begged them to stop",
        "I could not exit the building",
        "they made me delete everything on my phone",
        "I do not want to go back there",
        "nobody came to help",
        "they said skip the questions and sign",
        "رجعوني على الزنزانة",
        "قالولي اطلع من البيت ورجعت بعد ساعة",
        "خرجت من السجن بعد سنة",
        "they spoke to me in english",
    ],
)
def test_commands_inside_a_narrative_are_part_of_the_answer(
    interpreter: RuleInterpreter, text: str
) -> None:
    result = interpreter.interpret(text, expecting="text")
    assert result.intent not in {"quick_exit", "skip", "go_back", "help", "change_language"}


def test_narrative_is_not_hijacked_without_expecting(interpreter: RuleInterpreter) -> None:
    assert interpreter.interpret("they told me to stop talking").intent == "nlu_fallback"


def test_narrative_about_torture_may_be_a_report(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret(
        "In 2019 they took me to the branch and tortured me for days", expecting="text"
    )
    assert result.intent in {"nlu_fallback", "report_complaint"}
    assert result.urgent is False


@pytest.mark.parametrize(
    "text", ["the weather is nice", "٣ أولاد", "blue", "Damascus", "سيارة بيضاء", ""]
)
def test_unrelated_text_falls_back(interpreter: RuleInterpreter, text: str) -> None:
    result = interpreter.interpret(text)
    assert result.intent == "nlu_fallback"
    assert result.confidence < 0.5


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes, they still hold him in the branch", "affirm"),
        ("no, he was released last month", "deny"),
        ("لا، رجع عالبيت من زمان والحمد لله", "deny"),
    ],
)
def test_leading_answer_of_a_longer_bool_reply(
    interpreter: RuleInterpreter, text: str, intent: str
) -> None:
    assert interpreter.interpret(text, expecting="bool").intent == intent


@pytest.mark.parametrize(
    ("text", "language"),
    [("English please", "en"), ("بالعربي", "ar"), ("3arabi", "ar"), ("in English", "en")],
)
def test_change_language_carries_the_language_entity(
    interpreter: RuleInterpreter, text: str, language: str
) -> None:
    result = interpreter.interpret(text)
    assert result.intent == "change_language"
    entity = result.entity("language")
    assert entity is not None
    assert entity.value == language
    assert 0 <= entity.start < entity.end <= len(text)


def test_language_entity_offsets_point_into_the_original_text(
    interpreter: RuleInterpreter,
) -> None:
    text = "  please  ENGLISH"
    entity = interpreter.interpret(text).entity("language")
    assert entity is not None
    assert text[entity.start : entity.end] == "ENGLISH"


def test_unknown_expecting_kind_is_rejected(interpreter: RuleInterpreter) -> None:
    with pytest.raises(ValueError, match="expecting"):
        interpreter.interpret("yes", expecting="essay")
