"""Intent lexicon: English, MSA, dialects (Levantine, Egyptian, Gulf, Iraqi, Maghrebi), Arabizi.

Phrases are written as people type them; the interpreter normalises them with
`normalise_arabic` at construction, exactly as it normalises user text. Phrases are
separated by "|".

- `SHORT_PHRASES`: answers and commands. They count only when they make up (nearly) the
  whole message, so "stop" in "they told me to stop talking" is not a command.
- `CONTAINED_PHRASES`: requests that keep their meaning inside a longer sentence.
"""

from __future__ import annotations

__all__ = [
    "COMMAND_INTENTS",
    "CONTAINED_PHRASES",
    "FILLERS",
    "LANGUAGE_PHRASES",
    "NEGATORS",
    "PRIORITY",
    "SHORT_PHRASES",
    "split_phrases",
]

#: Intents that steer the conversation instead of answering it.
COMMAND_INTENTS = frozenset({"quick_exit", "skip", "go_back", "help", "change_language"})

#: Tie-break order when two intents match equally well (earlier wins).
PRIORITY: tuple[str, ...] = (
    "urgent_danger",
    "quick_exit",
    "withdraw_consent",
    "report_reprisal",
    "report_complaint",
    "check_status",
    "ask_human",
    "skip",
    "dont_know",
    "deny",
    "go_back",
    "help",
    "change_language",
    "done",
    "affirm",
    "thanks",
    "greet",
)

#: Politeness words ignored when deciding whether a phrase is the whole message.
FILLERS = (
    "please|pls|plz|plez|pliz|kindly|just|لو سمحت|لو سمحتي|من فضلك|رجاء|رجاءا|بليز|"
    "الله يخليك|الله يخليكم|يا ريت|law sama7t|lw sm7t|min fadlak|men fadlak|ya reet"
)

#: Words that turn a following affirmation into a refusal ("مش موافق", "not ok").
NEGATORS = (
    "not|don't|dont|never|no|isn't|aren't|nobody|مش|مو|غير|ما|مب|مبي|لست|ليس|لا|مانيش|ماني|"
    "مافي|مافيش|مفيش|ماكو|msh|mish|mesh|mush|mo|mu|ma|mub|mani|mich|mafi|mafish"
)

SHORT_PHRASES: dict[str, str] = {
    "greet": (
        "hi|hello|hey|hiya|good morning|good evening|good afternoon|salam|salaam|salam alaikum|"
        "assalamu alaikum|salamu alaykum|marhaba|mar7aba|ahlan|ahla|hala|hello there|bonjour|"
        "salut|مرحبا|مرحبه|مراحب|اهلا|أهلا|أهلاً|اهلين|أهلين|هلا|هلا والله|هلو|هاي|"
        "السلام عليكم|سلام عليكم|السلام عليكم ورحمة الله|سلام|صباح الخير|مساء الخير|مسا الخير|"
        "يا هلا|سلامات|الو|ألو|اهلا وسهلا|أهلا وسهلا|عوافي|السلام"
    ),
    "thanks": (
        "thanks|thank you|thx|thanks a lot|thank you so much|many thanks|ty|merci|merci beaucoup|"
        "shukran|shokran|choukran|shukrn|yislamo|ysalmo|teslam|tislam|شكرا|شكراً|شكرا جزيلا|"
        "شكرا كتير|مشكور|مشكورة|يعطيك العافية|يعطيكم العافية|الله يعطيك العافية|تسلم|تسلمي|"
        "يسلمو|يسلموا|تسلم ايدك|جزاك الله خير|جزاك الله خيرا|جزاكم الله خيرا|ميرسي|"
        "بارك الله فيك|الله يجزيك الخير|ممنون|متشكر|متشكرين|شكرا لك|شكرا لكم"
    ),
    "affirm": (
        "eyh behi|ih behi|behi|باهي|إيه باهي|"
        "yes|yeah|yea|yep|yup|ok|okay|okey|k|sure|of course|agree|i agree|yes i agree|i do|"
        "correct|that's right|alright|all right|fine|go ahead|continue|yes please|absolutely|"
        "definitely|certainly|indeed|y|no problem|no objection|why not|sounds good|i consent|"
        "consent|"
        "oui|d'accord|نعم|أجل|اجل|ايوه|إيوه|أيوه|ايوا|أيوا|ايوة|اه|آه|اها|إي|اي|ايه|إيه|"
        "اي نعم|إي نعم|ايه نعم|نعم موافق|طيب|موافق|موافقة|أوافق|اوافق|انا موافق|أنا موافقة|"
        "انا موافقة|تمام|ماشي|يب|يس|اكيد|أكيد|بالتأكيد|طبعا|طبعاً|صح|صحيح|اوكي|أوكي|اوك|حاضر|"
        "وخا|واخا|مش مشكلة|مو مشكلة|ما في مشكلة|مافي مشكلة|لا مانع|ما عندي مانع|لا بأس|"
        "ليش لا|ليه لا|زين|اكيد موافق|ewa|iwa|wakha|waxa|ih|iyeh|aywa|aiwa|"
        "aywah|na3am|naam|eh|ah|mwafe2|mowafe2|mwafiq|muwafiq|tamam|tmm|tayeb|tayyeb|mashi|akid|"
        "akeed|sa7|tab3an|mafi moshkle|ok mwafe2"
    ),
    "deny": (
        "no|nope|nah|no thanks|no thank you|not now|don't|do not|i don't|i do not|not ok|"
        "not okay|i don't agree|i do not agree|i disagree|disagree|never|no way|not really|n|"
        "no no|i refuse|refuse|لا|لأ|لاء|لاا|لا شكرا|لا شكراً|لأ شكرا|مش موافق|غير موافق|"
        "مو موافق|ما بدي|مابدي|لا ما بدي|لا مابدي|مش عايز|مش عاوز|مش عايزة|ما ابغى|ما ابي|مابي|"
        "ماابي|ما أريد|لا أريد|لا اوافق|لا أوافق|لست موافق|لست موافقا|انا مش موافق|أبدا|ابدا|"
        "مش هلق|مش الحين|مش دلوقتي|ليس الآن|مو هسه|مو الحين|لا لا|لالا|لا والله|ما بغيت|مابغيتش|"
        "ارفض|أرفض|مرفوض|la|la2|laa|laa2|lah|lala|la la|mish mwafe2|msh mwafe2|mesh mwafe2|"
        "msh 3ayez|mesh 3ayez|mish 3ayez|ma badi|mabadi|ma bade|mabde|la shukran|la2 shukran|"
        "la merci|non|non merci"
    ),
    "dont_know": (
        "don't know|dont know|i don't know|i dont know|i do not know|idk|dunno|not sure|"
        "i'm not sure|im not sure|i am not sure|no idea|i have no idea|i can't remember|"
        "can't remember|i don't remember|don't remember|unsure|i forgot|forgot|unknown|"
        "ما بعرف|مابعرف|ما بعرفش|مش عارف|مش عارفة|لا أعرف|لا اعرف|ما اعرف|ما أعرف|مااعرف|"
        "ما أدري|ما ادري|مدري|ماادري|مادري|معرفش|ماعرفش|مش متأكد|مش متأكدة|غير متأكد|"
        "لست متأكدا|لست متأكد|مو متأكد|مو متأكدة|ما عندي فكرة|ما عندي فكره|مش فاكر|مش فاكرة|"
        "ما بتذكر|مابتذكر|لا أتذكر|لا اتذكر|ما اتذكر|ما اذكر|نسيت|ما نعرفش|منعرفش|مانعرفش|"
        "ما نعرف|ماني عارف|مجهول|غير معروف|ma ba3ref|mabaref|ma ba3rif|mesh 3aref|mish 3aref|"
        "msh 3aref|mdri|madri|ma adri|m3rfsh|ma3rafsh|ma3rafch|ma na3refch|mana3refch|"
        "ma bitzakar|mesh fakir"
    ),
    "skip": (
        "skip|pass|next|skip it|skip this|skip question|skip this question|prefer not to say|"
        "i prefer not to say|rather not say|i'd rather not say|i would rather not say|"
        "i'd rather not|prefer not|no comment|next question|5alas skip|khalas skip|skip pls|"
        "تخطي|تخطى|تخطي السؤال|تجاوز|بلاش|التالي|السؤال التالي|اللي بعده|اللي بعدو|يلي بعدو|"
        "ما بدي جاوب|مابدي جاوب|ما بدي جاوب على هالسؤال|ما بدي احكي|لا أريد الإجابة|"
        "لا اريد الاجابة|لا أرغب في الإجابة|أفضل عدم الإجابة|افضل عدم الاجابة|أفضل ألا أقول|"
        "أفضل عدم القول|عدي|فوت|سكيب|مش عايز اجاوب|مش عاوز اجاوب|ما ابغى اجاوب|مابي اجاوب|"
        "ما ودي اجاوب|بدون اجابة|بدون جواب|خلص تخطي|خلاص تخطي|ما بغيتش نجاوب|ma badi jaweb|"
        "mabadi jaweb|tkhatta|t5ata|next pls|ba3do|elli ba3do"
    ),
    "go_back": (
        "back|go back|previous|previous question|undo|return|the previous one|go back one|"
        "رجوع|ارجع|ارجعي|رجعني|رجعنا|السابق|السؤال السابق|للخلف|الى الخلف|ورا|لورا|ارجع لورا|"
        "ارجع للوراء|بدي ارجع|رجوع للسؤال السابق|عودة|العودة|رجعني لورا|erja3|rja3|rje3|"
        "raje3ni|rag3ni|rajje3ni|lwara|la wara"
    ),
    "quick_exit": (
        "exit|quit|stop|stop now|exit now|quit now|delete everything|delete all|erase everything|"
        "wipe|wipe everything|clear everything|close|end|end chat|leave|cancel|get out|panic|"
        "delete|delete this conversation|delete the chat|delete chat|stop it|خروج|اخرج|اطلع|"
        "اطلعي|امسح كل شي|امسح كل شيء|امسح الكل|امسح|احذف|احذف كل شيء|احذف كل شي|احذف الكل|"
        "امسحوا كل شي|إنهاء|انهاء|انهي|إلغاء|الغاء|وقف|توقف|قف|سكر|اقفل|اغلق|امسح المحادثة|"
        "احذف المحادثة|امسح كلشي|خروج الآن|اطلع هلق|ستوب|khrooj|khoroj|5orooj|5ouroj|ukhruj|"
        "imsa7|emsa7|ems7 kol shi|imsa7 kel shi|imsa7 kolshi|wa2ef|wa2if"
    ),
    "help": (
        "help|help me|i need help|what|how|how does this work|what is this|i don't understand|"
        "i dont understand|don't understand|i do not understand|i'm confused|confused|explain|"
        "what do you mean|what should i do|info|information|menu|options|huh|"
        "مساعدة|ساعدني|ساعدوني|مش فاهم|مش فاهمة|ما فهمت|مافهمت|مو فاهم|ما فاهم|لم أفهم|لا أفهم|"
        "لا افهم|شو يعني|يعني شو|كيف|شو هاد|شو هذا|ايش يعني|إيش يعني|وش يعني|شنو يعني|شنو|"
        "بدي مساعدة|محتاج مساعدة|أحتاج مساعدة|احتاج مساعده|عاوز مساعدة|عايز مساعدة|ابي مساعدة|"
        "مش فاهم حاجة|ما فهمت شي|ما فهمتش|مفهمتش|هيلب|msa3de|mosa3ade|musa3ada|sa3edni|sa3dni|"
        "mish fahem|msh fahem|mesh fahem|ma fhemt|mafhemt|shu ya3ni|eh ya3ni"
    ),
    "ask_human": (
        "human|a human|person|a person|real person|a real person|agent|operator|caseworker|"
        "staff|human please|i want a human|call me|موظف|شخص حقيقي|انسان حقيقي|إنسان|انسان|بشر|"
        "حدا حقيقي|كلموني|اتصلوا بي|اتصلو فيي|mwazaf|shakhs 7a2i2i|ensan"
    ),
    "change_language": "",  # see LANGUAGE_PHRASES
    "done": (
        "done|i'm done|im done|i am done|that's all|thats all|that is all|finished|no more|"
        "nothing else|that's it|thats it|all done|finish|done thanks|خلص|خلاص|بس هيك|تم|"
        "انتهيت|خلصت|هذا كل شيء|هاد كل شي|هذا كل شي|هذا كل شيء|بس|كفى|كافي|بكفي|يكفي|"
        "ما في غيره|مافي غيرو|ما في غيرو|خلصنا|بس كذا|بس كده|هذا كل ما عندي|khalas|5alas|"
        "5lss|bas hek|bas|tamm|5alast|khalast"
    ),
    "urgent_danger": (
        "نجدة|النجدة|انجدوني|الحقوني|الحقونا|انقذوني|انقذونا|sos|emergency|mayday|help help|"
        "طوارئ|حالة طارئة|خطر|في خطر|خطر الآن|in danger|danger|urgent|عاجل|najde|ilha2ouni"
    ),
    "report_complaint": "complaint|complain|report|شكوى|بلاغ|shakwa|shakwe",
    "report_reprisal": "reprisal|reprisals|retaliation|انتقام|intiqam|ente2am",
    "withdraw_consent": "withdraw|withdraw consent|revoke|سحب الموافقة",
    "check_status": (
        "status|any news|any update|any updates|update|في جديد|اي جديد|أي جديد|شو الاخبار"
    ),
}

CONTAINED_PHRASES: dict[str, str] = {
    "report_complaint": (
        "i want to report torture|report torture|i want to report|i want to make a complaint|"
        "make a complaint|file a complaint|submit a complaint|i want to complain|"
        "i was tortured|i have been tortured|they tortured me|was tortured|were tortured|"
        "torture|tortured|torturing|ill treatment|ill-treatment|mistreated|mistreatment|"
        "they beat me|beat me|was beaten|were beaten|i was beaten|abused in prison|"
        "بدي قدم شكوى|بدي اقدم شكوى|اريد تقديم شكوى|أريد أن أقدم شكوى|اريد ان اشتكي|بدي اشتكي|"
        "عايز اقدم شكوى|عاوز اشتكي|ابغى اقدم شكوى|ابي اشتكي|حاب قدم شكوى|تقديم شكوى|شكاية|"
        "تعرضت للتعذيب|تعرض للتعذيب|تعرضت لسوء المعاملة|سوء معاملة|سوء المعاملة|عذبوني|عذبوه|"
        "عذبوها|عذبونا|تعذيب|التعذيب|ضربوني|ضربوه|ضربوها|ضربونا|انضربت|اتضربت|اغتصبوني|"
        "bade 2a2dem shakwa|badi 2adem shakwa|3azabouni|3azbouni|darabouni|darbouni|ta3zib|"
        "ta3theeb|ta3zeeb"
    ),
    "report_reprisal": (
        "reprisal|reprisals|retaliation|retaliate|retaliating|intimidation|revenge|"
        "because i talked to the un|because i spoke to the un|انتقام|انتقاما|انتقامية|"
        "أعمال انتقامية|اعمال انتقامية|انتقموا مني|ينتقموا مني|ترهيب|تخويف|intiqam|ente2am"
    ),
    "withdraw_consent": (
        "withdraw my consent|withdraw consent|i withdraw my consent|revoke my consent|"
        "revoke consent|cancel my consent|i no longer consent|i don't consent anymore|"
        "delete my report|delete my case|delete my complaint|remove my report|"
        "withdraw my report|withdraw my complaint|cancel my report|cancel my complaint|"
        "اسحب موافقتي|أسحب موافقتي|سحب الموافقة|سحب موافقتي|الغي موافقتي|ألغي موافقتي|"
        "الغاء الموافقة|احذفوا بلاغي|احذفو بلاغي|احذف بلاغي|امسحوا بلاغي|امسحو بلاغي|"
        "احذفوا شكوتي|احذف شكوتي|اسحب شكوتي|اسحب الشكوى|اسحب البلاغ|اسحب بلاغي|سحب الشكوى|"
        "الغاء البلاغ|الغاء الشكوى|الغوا شكوتي|امسح بلاغي|امسحوا شكوتي|msa7o balaghi|"
        "es7ab mwaf2ti|is7ab muwafaqti"
    ),
    "check_status": (
        "status of my case|my case status|case status|status of my complaint|"
        "what happened to my case|what happened with my case|what happened to my complaint|"
        "what happened with my complaint|update on my case|news about my case|"
        "where is my complaint|did you receive my report|has anyone read my report|"
        "check status|check my case|track my case|شو صار بقضيتي|شو صار بشكوتي|شو صار بالشكوى|"
        "شو صار بالقضية|وين وصلت الشكوى|وين وصلت شكوتي|وين صارت قضيتي|وين وصلت قضيتي|"
        "ما هي حالة قضيتي|حالة القضية|حالة قضيتي|حالة الشكوى|حالة البلاغ|حالة بلاغي|حالة شكوتي|"
        "ايش صار بقضيتي|ايش صار في قضيتي|وش صار على شكواي|شنو صار بقضيتي|شنو صار بالشكوى|"
        "ايه اللي حصل في قضيتي|ايه اللي حصل في الشكوى|أي أخبار عن قضيتي|متابعة الشكوى|"
        "متابعة قضيتي|متابعة بلاغي|shu sar b2adeyte|sho sar bel shakwa|shu sar bel shakwa"
    ),
    "ask_human": (
        "talk to a person|talk to a human|speak to a person|speak to a human|talk to someone|"
        "speak to someone|talk to a real person|speak with a person|speak with someone|"
        "talk with someone|i want to talk to a person|connect me to someone|"
        "بدي احكي مع حدا|بدي احكي مع شخص|بدي احكي مع انسان|بدي احكي مع موظف|احكي مع حدا|"
        "أريد التحدث مع شخص|اريد التحدث الى شخص|أريد التحدث مع موظف|التحدث مع شخص|"
        "عايز اكلم حد|عاوز أكلم حد|عايز اتكلم مع حد|ابغى اكلم احد|ابي اكلم موظف|"
        "ابغى اتكلم مع شخص|اريد احجي ويه واحد|اتكلم مع حد|badi a7ki ma3 7ada|bde e7ke ma3 7ada|"
        "3ayez akallem 7ad"
    ),
}

#: change_language phrases by target language code.
LANGUAGE_PHRASES: dict[str, str] = {
    "en": (
        "english|english please|in english|en|eng|speak english|switch to english|"
        "english language|can we speak english|انجليزي|إنجليزي|انكليزي|إنكليزي|بالانجليزي|"
        "بالإنجليزي|بالانكليزي|الانجليزية|الإنجليزية|باللغة الانجليزية|inglizi|englizi|"
        "bel englizi|bil inglizi"
    ),
    "ar": (
        "arabic|in arabic|arabic please|ar|speak arabic|switch to arabic|arabic language|"
        "بالعربي|عربي|بالعربية|العربية|عربى|باللغة العربية|عربي لو سمحت|3arabi|3arabe|arabi|"
        "bel 3arabi|bl3arabi|bil 3arabi"
    ),
}


def split_phrases(spec: str) -> list[str]:
    """Split a "|"-separated phrase list, dropping blanks."""
    return [p.strip() for p in spec.split("|") if p.strip()]
