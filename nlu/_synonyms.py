"""Words people use for the option ids of report-fields.md, in Arabic, dialects, Arabizi, English.

Keyed by option id only: an id means the same thing in every field that offers it
(`police` as perpetrator and as a body already told). Bare words that are also ordinary
words elsewhere (e.g. "امن", "safe") are left out on purpose.
"""

from __future__ import annotations

__all__ = ["OPTION_SYNONYMS"]


def _s(spec: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in spec.split("|") if p.strip())


OPTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    # perpetrator_type / reprisal_by / reported_elsewhere
    "police": _s(
        "police|policeman|policemen|cops|cop|شرطة|شرطي|الشرطة|بوليس|البوليس|الأمن|"
        "قوات الأمن|رجال الأمن|الامن العام|شرطه|shorta|boulis|police officers"
    ),
    "military": _s(
        "military|army|soldiers|soldier|armed forces|جيش|الجيش|عسكر|العسكر|عسكري|"
        "جنود|جندي|القوات المسلحة|الحرس|jeish|jaysh|3askar"
    ),
    "intelligence": _s(
        "intelligence|secret police|state security|security services|mukhabarat|"
        "mukhabarat|mokhabarat|مخابرات|المخابرات|أمن الدولة|الأمن الوطني|"
        "الأمن السياسي|المباحث|مباحث|الاستخبارات|استخبارات|أمن الدوله|amn el dawla"
    ),
    "prison_staff": _s(
        "prison staff|prison guards|guards|guard|jailers|wardens|سجانين|السجانين|"
        "سجان|السجان|حراس السجن|الحراس|حراس|إدارة السجن|sajjan|sajaneen"
    ),
    "armed_group": _s(
        "armed group|militia|militias|rebels|gang|ميليشيا|مليشيا|ميليشيات|"
        "جماعة مسلحة|مسلحين|الشبيحة|شبيحة|فصيل|فصائل|عصابة|milishia|shabbiha"
    ),
    "private_person": _s(
        "private person|a person|civilian|neighbour|neighbor|employer|husband|"
        "شخص عادي|مدني|جار|الجيران|صاحب العمل|الكفيل|زوجي"
    ),
    "unknown": _s(
        "unknown|i don't know|don't know|not sure|مجهول|مجهولين|لا أعرف|ما بعرف|"
        "مش عارف|مدري|غير معروف|ma ba3ref"
    ),
    "other": _s("other|something else|else|غير ذلك|آخر|اخرى|أخرى|غيره|شي تاني|شي ثاني|ghair"),
    "none": _s(
        "none|nobody|no one|nowhere|nothing|لا أحد|ولا حدا|ما حدا|لا شيء|ولا شي|لا شي|"
        "لا يوجد|ما في|مافي|ولا جهة|wala 7ada|mafi"
    ),
    "prefer_not": _s(
        "prefer not to say|prefer not|rather not say|أفضل عدم القول|أفضل عدم الإجابة|"
        "ما بدي قول|ما بدي احكي|بلاش"
    ),
    # reported_elsewhere
    "prosecutor": _s(
        "prosecutor|prosecution|public prosecutor|النيابة|النيابة العامة|نيابة|"
        "المدعي العام|وكيل النيابة|niyaba"
    ),
    "court": _s("court|judge|tribunal|محكمة|المحكمة|القاضي|قاضي|القضاء|ma7kame|mahkama"),
    "nhri": _s(
        "nhri|national human rights institution|human rights commission|ombudsman|"
        "المؤسسة الوطنية لحقوق الإنسان|المجلس الوطني لحقوق الإنسان|ديوان المظالم|"
        "اللجنة الوطنية لحقوق الإنسان|هيئة حقوق الإنسان|المفوضية"
    ),
    "un_body": _s(
        "un|united nations|the un|un committee|special rapporteur|الأمم المتحدة|"
        "الامم المتحدة|المقرر الخاص|مجلس حقوق الإنسان|el umam|umam"
    ),
    "ngo": _s(
        "ngo|organisation|organization|association|charity|منظمة|منظمات|جمعية|مؤسسة|"
        "منظمة حقوقية|جمعية حقوقية|monazame|jam3iye"
    ),
    # support_needs
    "medical": _s(
        "medical|doctor|hospital|treatment|health|medicine|طبي|طبية|طبيب|دكتور|مستشفى|"
        "علاج|دواء|دوا|صحي|tabib|doctor please|3elaj"
    ),
    "psychosocial": _s(
        "psychosocial|psychological|mental health|counselling|counseling|therapy|"
        "نفسي|نفسية|دعم نفسي|علاج نفسي|معالج نفسي|nafsi"
    ),
    "legal": _s(
        "legal|lawyer|legal aid|attorney|قانوني|قانونية|محامي|محامية|مساعدة قانونية|"
        "استشارة قانونية|mo7ami|mu7ami|lawyer please"
    ),
    "shelter": _s(
        "shelter|housing|safe house|place to stay|مأوى|ملجأ|سكن|مكان آمن|بيت آمن|"
        "مكان اقعد فيه|ma2wa"
    ),
    # victim_gender / caseworker_gender_pref
    "woman": _s(
        "woman|female|women|girl|lady|she|امرأة|امراة|مرأة|أنثى|انثى|ست|سيدة|بنت|"
        "فتاة|مرا|حرمة|موظفة|mara|bent|sitt"
    ),
    "man": _s(
        "man|male|men|boy|guy|he|رجل|رجال|ذكر|شاب|زلمة|راجل|رجّال|ولد|موظف|rajul|zalame|rajel"
    ),
    "non_binary": _s(
        "non binary|non-binary|nonbinary|enby|genderqueer|غير ثنائي|غير ثنائية|لا ثنائي"
    ),
    "any": _s(
        "any|anyone|doesn't matter|does not matter|either|no preference|مش مهم|ما بتفرق|"
        "أي حدا|اي حد|أي شخص|لا يهم|عادي|مو مهم|mesh mohem|msh muhim|3adi"
    ),
    # victim_age_group
    "child": _s(
        "child|children|kid|minor|boy|girl|under 18|teenager|طفل|طفلة|أطفال|قاصر|قاصرة|"
        "ولد صغير|بنت صغيرة|تحت 18|ت7t 18|tefl|walad"
    ),
    "adult": _s("adult|grown up|بالغ|بالغة|راشد|راشدة|كبير|shab"),
    "older": _s(
        "older|elderly|old|senior|over 60|aged|مسن|مسنة|كبير بالسن|كبير في السن|عجوز|"
        "ختيار|ختيارة|شايب|فوق 60|khetyar"
    ),
    # victim_groups
    "deprived_of_liberty": _s(
        "detained|detainee|prisoner|in prison|in detention|in custody|"
        "محتجز|معتقل|سجين|مسجون|موقوف|أسير|m3ta2al"
    ),
    "disability": _s(
        "disability|disabled|handicapped|wheelchair|إعاقة|اعاقة|معاق|ذوي الإعاقة|"
        "ذوي الاحتياجات الخاصة|مقعد|كفيف|أصم"
    ),
    "refugee_or_migrant": _s(
        "refugee|migrant|asylum seeker|immigrant|لاجئ|لاجئة|لاجئين|مهاجر|مهاجرة|طالب لجوء|laje2"
    ),
    "idp": _s("idp|internally displaced|displaced|نازح|نازحة|نازحين|مهجر|مهجرة|naze7"),
    "minority": _s("minority|ethnic minority|religious minority|أقلية|اقلية|أقليات|a2aliye"),
    "indigenous": _s("indigenous|native|السكان الأصليين|الشعوب الأصلية|أصلي|امازيغ|أمازيغ"),
    "lgbti": _s(
        "lgbti|lgbt|lgbtq|gay|lesbian|trans|transgender|queer|bisexual|مثلي|مثلية|"
        "مثليين|عابر|عابرة|مجتمع الميم|ميم عين"
    ),
    "hrd": _s(
        "human rights defender|activist|defender|environmental defender|ناشط|ناشطة|"
        "ناشط حقوقي|مدافع عن حقوق الإنسان|مدافعة عن حقوق الإنسان|حقوقي|حقوقية|nashet"
    ),
    "journalist": _s(
        "journalist|reporter|press|media|blogger|صحفي|صحفية|صحافي|صحافية|إعلامي|مدون|مدونة|sa7afi"
    ),
    # report_type / reporter_role
    "complaint": _s("complaint|torture|ill treatment|شكوى|تعذيب|سوء معاملة|shakwa"),
    "reprisal": _s("reprisal|retaliation|intimidation|انتقام|ترهيب|تخويف|ente2am"),
    "victim": _s(
        "victim|me|myself|it happened to me|i am the victim|أنا|انا|ضحية|نفسي|حصل معي|صار معي|ana"
    ),
    "family": _s(
        "family|relative|my son|my daughter|my brother|my sister|my husband|my wife|"
        "my father|my mother|عائلة|عيلة|أهل|قريب|ابني|بنتي|أخي|اخوي|خيي|أختي|اختي|"
        "زوجي|زوجتي|مرتي|أبوي|ابي|أمي|امي|ibni|akhi"
    ),
    "witness": _s("witness|i saw|i witnessed|شاهد|شاهدة|شفت|رأيت|شهدت|shahed"),
    "representative": _s(
        "representative|lawyer|ngo|on behalf|محامي|محامية|منظمة|نيابة عن|بالنيابة|ممثل|mo7ami"
    ),
    # place_type
    "police_station": _s(
        "police station|station|precinct|مخفر|المخفر|قسم الشرطة|القسم|قسم|"
        "مركز الشرطة|مركز شرطة|كراكون|makhfar|2esm"
    ),
    "prison": _s("prison|jail|gaol|سجن|السجن|حبس|الحبس|zinzana|زنزانة|sijn|7abs"),
    "military_site": _s(
        "military base|military site|barracks|checkpoint|ثكنة|معسكر|قاعدة عسكرية|"
        "حاجز|الحاجز|فرع عسكري|7ajez"
    ),
    "intelligence_site": _s(
        "intelligence branch|intelligence building|security branch|فرع|"
        "فرع المخابرات|فرع الأمن|مقر المخابرات|أمن الدولة|far3"
    ),
    "immigration_detention": _s(
        "immigration detention|detention centre|detention center|"
        "deportation centre|مركز احتجاز|مركز الترحيل|الترحيل|"
        "احتجاز المهاجرين"
    ),
    "psychiatric_or_care": _s(
        "psychiatric|mental hospital|care home|orphanage|مستشفى نفسي|"
        "مصحة|مصح|دار رعاية|دار أيتام|مستشفى الأمراض العقلية"
    ),
    "unofficial_place": _s(
        "secret place|unofficial|unknown place|black site|safe house|"
        "مكان سري|مكان مجهول|سجن سري|مكان غير رسمي"
    ),
    "home": _s("home|house|my house|at home|بيت|البيت|بيتي|منزل|المنزل|الدار|بالبيت|beit|bet"),
    "street_or_public": _s(
        "street|road|public|demonstration|protest|square|شارع|الشارع|طريق|"
        "مظاهرة|ساحة|مكان عام|بالشارع|share3"
    ),
    # violation_types
    "beating": _s(
        "beating|beaten|beat|hit|kicked|punched|ضرب|الضرب|ضربوني|ضربوه|لبط|رفس|"
        "كفوف|جلد|darb|darabouni"
    ),
    "sexual_violence": _s(
        "sexual violence|rape|raped|sexual assault|sexual harassment|harassment|"
        "اغتصاب|اغتصبوني|تحرش|تحرش جنسي|عنف جنسي|اعتداء جنسي|ta7arosh"
    ),
    "electric_shock": _s(
        "electric shock|electricity|electrocuted|shocks|taser|كهربا|كهرباء|"
        "صعق|صعق كهربائي|كهربوني|kahraba"
    ),
    "stress_positions": _s(
        "stress position|stress positions|hanging|suspended|shabeh|"
        "standing for hours|شبح|الشبح|تعليق|علقوني|بساط الريح|الدولاب|"
        "وقوف لساعات"
    ),
    "threats": _s("threats|threat|threatened|threatening|تهديد|تهديدات|هددوني|يهددوني|tahdid"),
    "solitary_confinement": _s(
        "solitary|solitary confinement|isolation|alone in a cell|"
        "انفرادي|حبس انفرادي|الانفرادي|منفردة|zinzana monfarida"
    ),
    "incommunicado": _s(
        "incommunicado|no contact|no lawyer|no family visits|not allowed to call|"
        "ممنوع من الزيارة|بدون تواصل|منعوني من الاتصال|معزول عن العالم|مخفي"
    ),
    "denial_of_medical_care": _s(
        "denied medical care|no medical care|no doctor|no treatment|"
        "denied treatment|حرمان من العلاج|منعوا العلاج|ما في علاج|"
        "بدون علاج|منعوا الدواء"
    ),
    "forced_confession": _s(
        "forced confession|forced to confess|forced to sign|اعتراف بالإكراه|"
        "اعتراف تحت الضغط|أجبروني على الاعتراف|اجبروني ابصم|بصموني|"
        "اعتراف قسري"
    ),
    "deprivation_food_water_sleep": _s(
        "no food|no water|no sleep|starved|starvation|"
        "sleep deprivation|denied food|hunger|حرمان من النوم|"
        "حرمان من الطعام|بدون أكل|بدون اكل|بدون مي|جوع|"
        "منعونا من النوم|ما في أكل|عطش"
    ),
    "humiliation": _s(
        "humiliation|humiliated|insulted|insults|degrading|stripped|إهانة|اهانة|"
        "إهانات|شتم|سب|مسبات|ذل|تعرية|عروني|bahdale"
    ),
    # cooperation_body
    "un_treaty_body": _s(
        "treaty body|un committee|committee against torture|cat|spt|"
        "human rights committee|لجنة مناهضة التعذيب|لجنة الأمم المتحدة|"
        "اللجنة الفرعية لمنع التعذيب|هيئة معاهدة"
    ),
    "un_special_procedure": _s(
        "special rapporteur|special procedure|working group|rapporteur|"
        "المقرر الخاص|المقررة الخاصة|الفريق العامل|الإجراءات الخاصة"
    ),
    "upr": _s(
        "upr|universal periodic review|periodic review|الاستعراض الدوري الشامل|الاستعراض الدوري"
    ),
    "un_other": _s(
        "un|united nations|the un|ohchr|unhcr|unicef|الأمم المتحدة|الامم المتحدة|"
        "المفوضية السامية|مفوضية اللاجئين|el umam"
    ),
    "regional_body": _s(
        "regional body|african commission|inter-american commission|european court|"
        "arab committee|اللجنة الأفريقية|اللجنة العربية لحقوق الإنسان|"
        "المحكمة الأوروبية|الجامعة العربية"
    ),
    "npm": _s(
        "npm|national preventive mechanism|preventive mechanism|الآلية الوقائية|"
        "الآلية الوطنية للوقاية|الالية الوقائية"
    ),
    # reprisal_acts
    "arrest_or_detention": _s(
        "arrest|arrested|detention|detained|jailed|اعتقال|اعتقلوني|توقيف|احتجاز|حبس|سجن|e3te2al"
    ),
    "travel_ban": _s(
        "travel ban|banned from travel|not allowed to travel|passport|منع سفر|"
        "منع من السفر|منعوني من السفر|حجز الجواز|سحبوا جوازي|man3 safar"
    ),
    "surveillance": _s(
        "surveillance|followed|watched|monitored|spying|tapped|مراقبة|مراقبه|"
        "يراقبوني|راقبوني|تجسس|تنصت|ملاحقة|mura2aba"
    ),
    "smear_campaign": _s(
        "smear|smear campaign|defamation|slander|lies about me|تشويه سمعة|"
        "تشهير|حملة تشويه|إشاعات|اشاعات"
    ),
    "harm_to_family": _s(
        "family harmed|harm to family|my family|threatened my family|"
        "arrested my brother|أذية العائلة|أهلي|اهلي|عائلتي|عيلتي|أولادي|"
        "اعتقلوا أخي|هددوا أهلي"
    ),
    "job_loss": _s(
        "job loss|fired|dismissed|lost my job|sacked|فصل|فصلوني|طردوني من الشغل|"
        "خسرت شغلي|خسرت عملي|فصل من العمل|terdouni"
    ),
    "legal_action": _s(
        "legal action|lawsuit|charges|charged|prosecuted|court case|قضية|دعوى|"
        "تهمة|تهم|محاكمة|رفعوا علي قضية|حاكموني"
    ),
    "physical_attack": _s(
        "physical attack|attacked|assaulted|beaten up|اعتداء|اعتداء جسدي|"
        "هجوم|هاجموني|ضربوني|اعتدوا علي"
    ),
    "online_harassment": _s(
        "online harassment|cyber harassment|hacked|trolls|online threats|"
        "social media|تحرش إلكتروني|تحرش الكتروني|تهديدات على النت|"
        "اختراق|هكروا|فيسبوك|facebook|twitter|whatsapp"
    ),
    # language
    "ar": _s("arabic|عربي|العربية|بالعربي|3arabi"),
    "en": _s("english|انجليزي|إنجليزي|الإنجليزية|انكليزي|englizi|inglizi"),
    # a safety check-in (issue 18): fixed answers, by word
    "safe": _s(
        "safe|i am safe|i'm safe|im safe|i am ok|i'm ok|i am fine|i'm fine|all good|"
        "بأمان|انا بأمان|أنا بخير|انا بخير|بخير|تمام|الحمد لله|كويس|mnih|labas|bikhair"
    ),
    "not_safe": _s(
        "not safe|something happened|unsafe|in danger|help|they came|"
        "لست بأمان|مش بأمان|حدث شيء|صار شي|صار شيء|في خطر|بخطر|ساعدوني|"
        "مو بخير|مش بخير|sar shi"
    ),
    "call_me": _s(
        "call me|call|phone me|ring me|اتصلوا بي|اتصلوا|اتصل بي|كلموني|رنوا|ettasilu|kallimuni"
    ),
    "stop_checkins": _s(
        "stop|stop them|no more|unsubscribe|أوقفوا|أوقف|توقفوا|كفى|"
        "لا أريد رسائل|wa2fu|stop messages"
    ),
}
