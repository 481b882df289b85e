"""Each intent in a dialect, in Arabizi and in English, on the default backend.

None of these texts is in the training data or the held-out split: they test generalisation
(Levantine, Egyptian, Gulf, Maghrebi spellings, Arabizi digits, no diacritics).
"""

from __future__ import annotations

import pytest

from nlu import HybridInterpreter

CASES: dict[str, list[str]] = {
    "greet": [
        "salam 3alaykom ya jama3a",
        "مرحبا يا جماعة",
        "ahlan ya sanad",
    ],
    "thanks": [
        "shukran ktir ya sanad",
        "الله يعطيكم العافية على تعبكم",
        "thanks a lot guys",
    ],
    "affirm": [
        "ih akid",
        "ايوه اكيد موافق",
        "yes ok fine",
    ],
    "deny": [
        "la2 mish mwafe2",
        "لا ما بدي هيك",
        "no i don't want",
    ],
    "dont_know": [
        "wallah ma ba3ref shi",
        "والله ما بعرف شي",
        "i really have no idea",
    ],
    "skip": [
        "ma badi jaweb 3ala hal so2al",
        "بدي اتجاوز هالسؤال",
        "skip that one please",
    ],
    "go_back": [
        "rje3 lal so2al elli abl",
        "رجعني عالسؤال اللي قبل",
        "go back to the question before",
    ],
    "quick_exit": [
        "imsa7 kel shi hala2",
        "امسح كل شي بسرعة",
        "delete everything right now",
    ],
    "help": [
        "ma fhemet shu badak",
        "مش فاهم شو المطلوب",
        "i don't understand what you want",
    ],
    "ask_human": [
        "badi e7ki ma3 insan",
        "بدي احكي مع موظف حقيقي",
        "can i talk to a real human",
    ],
    "change_language": [
        "bel 3arabi law sama7t",
        "بالعربي لو سمحت",
        "in english please",
    ],
    "done": [
        "khalas hayda kel shi",
        "هيك خلصت ما في شي تاني",
        "that's everything",
    ],
    "urgent_danger": [
        "ilha2ouni el amn 3al bab",
        "الحقوني الامن عالباب",
        "help me they are at the door",
    ],
    "report_complaint": [
        "badi 2a2dem shakwa 3an ta3zib",
        "بدي قدم شكوى عن التعذيب",
        "i want to file a torture complaint",
    ],
    "report_reprisal": [
        "hadadouni la2ni 7ket ma3 el umam el mot7ide",
        "هددوني لاني حكيت مع الامم المتحدة",
        "they threatened me for talking to the UN",
    ],
    "withdraw_consent": [
        "badi es7ab mwafa2ti",
        "بدي اسحب موافقتي",
        "i want to withdraw my consent",
    ],
    "check_status": [
        "shu sar b shakwti",
        "شو صار بشكوتي",
        "what is the status of my complaint",
    ],
}


@pytest.mark.parametrize(
    ("intent", "text"), [(intent, text) for intent, texts in CASES.items() for text in texts]
)
def test_intent_across_ways_of_writing(builtin: HybridInterpreter, intent: str, text: str) -> None:
    result = builtin.interpret(text)
    assert result.intent == intent, (text, result.intent, result.confidence)
    assert result.confidence >= builtin.threshold
