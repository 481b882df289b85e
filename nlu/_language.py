"""Language detection: Arabic script, Arabizi (Arabic in Latin letters and digits), English."""

from __future__ import annotations

import re

from nlu._normalise import normalise_arabic

__all__ = ["detect_language", "tokens"]

_ARABIC_LETTER = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF]")
_LATIN_LETTER = re.compile(r"[a-zA-Z\u00C0-\u024F]")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

# A Latin word with an Arabizi digit used as a letter: "3ayez", "la2", "7abs", "ma3".
# Single digits only, so "covid19", "2021" and "3rd" do not count.
_DIGIT_WORD = re.compile(r"^(?=.*[a-z])[a-z]*[235789](?:[a-z]+[235789]?)*[a-z]*$")
_NOT_ARABIZI = re.compile(r"^\d+(?:st|nd|rd|th|am|pm|h|hr|hrs|min|mins|s|x|k|m|km|kg|d|g|gb)$")

_STRONG = frozenset(
    "ana msh mish mesh mush aywa aiwa aywah ya3ni yaani mafi mafish ma3 shu shou sho leh lesh "
    "leish kaman kamen 3ayez 3ayz 3awez 7abs la2 laa2 badi bade baddi bidi bde ba3ref mbere7 "
    "embare7 mbare7 hala2 halla2 hal2 dilwa2ti delwa2ty yalla wallah wallahi khalas 5alas "
    "shukran shokran choukran inshallah habibi hayda hek keda kda ezay izzay ahlan marhaba "
    "mar7aba na3am tayeb tayyeb mashi e7na ne7na homma 3shan 3alashan ma3lesh ma3lish "
    "wein fein ween emta imta hene hinne hadol wakha waxa mwafe2 mowafe2 3arabi kano kanu "
    "khrooj kharej ta3zib 5ayef khayef "
    # Maghrebi (Moroccan, Algerian, Tunisian) and Iraqi, Gulf, Sudanese words
    "bghit bghina bghiti rah rahom rahi daba dba drk dork tawa kolchi koulchi kulshi bzaf bezzaf "
    "chno chnou chnowa chkoun chkon wach wesh fin mzyan mezyan dyali dyal dialna ddawh ddawha "
    "jaw jaou chedouh kifach kifech nmout nmoot 3lina 3lih mako makuu shaku hassa hessa "
    "shlonak shlon chlon abgha abi ab8a ma3ando ma3ndouch behi barcha famma fama ma3adch "
    "ntaa nta3 mta3 dyalo dyalha 5dhaw akhadhaw shalo ghodwa ghadwa bokra bukra "
    # more words of the dev sets' dialects (issue 13)
    "ghadi ghedda lila yjiw daw wlidati tnazeltich nqtel rassi rasi rou7i sanat sint dawla "
    "nsajant tawaggaft ta3arradt dst dged bnpj drs sijn sejen 7ajez far3 moba7ith "
    "galou galaw 9alou 2aloule haddadouni haddadoune kaynin kayn khouya khoya khayye "
    "akhado ddaw daw wlad wled zghar sghar jirani jiranna "
    # Maghrebi words and the French of the Maghreb ("la gendarmerie", "lpolice", "garde à vue")
    "walou walo safi wakha iyeh bzzaf chwiya chwia 3lach fach mnin kayna kaynin makaynch "
    "lbare7 lbar7 ghedwa hadak hadik lmakla lkhedma lbab ldar khti mrati rajli weldi wldi "
    "benti bnti wlidi yemma lwalida lwalid bba gendarmerie gendarme gendarmes commissariat "
    "flics lpolice lboulis boulis boulisiya boulice sbitar mazal mazel 7ta hta "
    # Gulf and Iraqi words
    "hatha hathi hadha hadhi haadi elli illi shino shinu eish laish lain wayed wayid waayed "
    "yabi yaboon yabon aboy abooy akhooy akhoy okhti ukhti zoji zawji baitna betna sayyara "
    "sayara jawal jawwal galoli ygool ygoloon baachir bachir tawgeef shakwa balagh hassa".split()
)
_WEAK = frozenset(
    "w eh bas la ma fi el ya hay min wala enta enti inta inti fe ams 3am bel bil abl ba3d kel "
    "kol yom abi sene sijen sijn".split()
)
# Arabic verb endings written in Latin letters: "darabouni", "ydarbouna", "5adouh".
_ARABIZI_ENDING = re.compile(r"^[a-z2357]{2,}(?:ouni|oni|ouna|ouh|ouha|ouhom|ohom)$")
# Maghrebi present tense "kay-/kat-/kan-" + verb: "kaydrbo", "katkhdem", "kanmchi".
_MAGHREB_PRESENT = re.compile(r"^ka[ynt](?!ak|e$)[a-z2357]{3,}$")
_ENGLISH = frozenset(
    "the i a an is are was were to and of my me you he she it they we not don't do did "
    "please yes no ok okay in on at for with this that what who have has been be will can "
    "want need help hi hello thanks thank from by our their his her him them".split()
)


def tokens(normalised: str) -> list[str]:
    """Split normalised text into word tokens (letters and digits, inner apostrophes)."""
    return _TOKEN.findall(normalised)


def detect_language(text: str) -> tuple[str, bool]:
    """Return (lang, arabizi): "ar" for Arabic script or Arabizi, otherwise "en"."""
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic and arabic >= latin:
        return "ar", False
    if not latin:
        return "en", False
    words = [w for w in tokens(normalise_arabic(text)) if _LATIN_LETTER.search(w)]
    strong = sum(
        1
        for w in words
        if w in _STRONG
        or _ARABIZI_ENDING.match(w)
        or _MAGHREB_PRESENT.match(w)
        or (_DIGIT_WORD.match(w) and not _NOT_ARABIZI.match(w))
    )
    weak = sum(1 for w in words if w in _WEAK)
    english = sum(1 for w in words if w in _ENGLISH)
    score = 2 * strong + weak
    if score and score >= english and (strong or weak >= 2 or len(words) == 1):
        return "ar", True
    return "en", False
