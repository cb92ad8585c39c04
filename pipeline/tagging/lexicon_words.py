"""Dutch word knowledge for titles: is it a real word, a name, a verb form, an adjective?

Pure functions over two installed, offline resources: wordfreq's Dutch frequency list
(``zipf_frequency(w, "nl")``: 3 = once per million words) and simplemma's Dutch lemmas.
A word Whisper misheard ("linkskrijven", "spaatsjebalpjesje") is in neither; a compound that
is not in the frequency list (``frietkar``, ``steunberm``) is accepted when it splits into
known parts (``friet`` + ``kar``), each frequent enough on its own.
"""

from __future__ import annotations

from functools import lru_cache

from pipeline.core.text import fold as _fold

#: Closed-class and very common words that never head a title phrase (folded, lower case).
_FUNCTION_TEXT = """
    aan af al alle alles als altijd ander andere anders ben bij bijna binnen boven buiten dan
    dat de deze die dit doe doen door dus echt een eens eigenlijk elk elke en er ergens even
    gaan gaat gedaan geen gehad geweest gewoon ging gingen had hadden heb hebben hebt heeft
    hele het hier hij hoe hoor hun iemand iets ik in is ja je jij jou jouw jullie kan keer kon
    konden kunnen kunt kwam kwamen laat laten maar me meer men met mij mijn misschien moest
    moesten moet moeten mogen na naar natuurlijk niet niets nog nooit nou nu of om omdat ons
    onze ook op over paar precies best toch toe toen tot u uit uw van veel via voor vond
    vooral waar waarom wanneer want waren was wat we weer wel werd werden wie wij wil willen
    wilde wilden word worden wordt zal ze zeg zegt zei zeiden zeggen zelf zich zie zien zij
    zijn zo zoals zou zouden zullen daar daarom daarna daarin daarmee daarvoor daarbij
    hierin hiermee hiervoor waarin waarmee erg heel zeer steeds ineens eerst later straks
    meteen gauw snel net pas weg ver terug samen allemaal beetje oké okay tja uh eh ehm hè
    hee hey nee ach oh oeps wauw wow sorry dank bedankt alsjeblieft graag zit zitten zat
    zaten staat staan stond stonden ligt liggen lag kom komt komen krijg krijgt krijgen
    kreeg kregen ga denk denkt dacht weet weten wist zegt mag mogen moest kun hoeven hoeft
    tegen tussen zonder onder achter rond langs tijdens sinds vanaf vanuit sommige iedere
    ieder iedereen niemand niks wel elkaar welke welk zulke zulk zoveel hoeveel evenals
    vandaag gisteren morgen nu toen dus wellicht eigen echter bovendien ondanks alleen zelfs
    ooit soms vaak nogal helemaal zeker ongeveer uiteindelijk eerlijk opnieuw apart intussen
    overal nergens tevoren vandaan mee daardoor daarvan daarop waarop waardoor waarvan
    hierover daarover zowel noch hoewel terwijl zodat zodra nadat voordat totdat tenzij
    indien ofwel enkele enkel beide welke iets wat nergens zodoende dergelijke allebei
    bovenin onderin achterin voorin middenin binnenin daarheen hierheen waarheen ergens
    hallo hoi joh jeetje tsja hé dankjewel dankuwel beneden achteraan vooraan links rechts
    omhoog omlaag naartoe zolang zover zoals alsof voordat doordat extra
"""
FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())

#: Nouns too general to name a chapter.
_GENERIC_TEXT = """
    manier soort ding dingen keer stuk beetje deel delen idee bedoeling kant vraag vragen
    moment momenten tijd jaar jaren dag dagen week weken maand mensen mens iets zaak zaken
    feit geval gevallen plek plaats punt punten eind begin vorm rest aantal paar kwestie
    verhaal verhalen woord woorden nummer probleem problemen reden redenen beeld gedeelte
    heer mevrouw meneer jongen jongens iemand niemand alles niets veld level niveau afloop
    boel zooi gedoe spul
"""
GENERIC_NOUNS = frozenset(_GENERIC_TEXT.split())

#: Frequent uninflected adjectives and adverbs that Whisper output puts after an article
#: ("het direct"): never the head of a title phrase.
_ADJECTIVES_TEXT = """
    direct kort lang klaar goed leuk mooi fijn slecht groot klein nieuw oud hoog laag snel vlug
    makkelijk moeilijk duidelijk echt precies zeker enorm heel half vol leeg open dicht warm
    koud zwaar licht sterk zwak raar gek dom slim stil druk rustig vrij bang blij boos moe ziek
    dood levend klaar bekend beter slechter meest minst eerder verder vroeg laat extra
"""
COMMON_ADJECTIVES = frozenset(_ADJECTIVES_TEXT.split())

_LINKS = ("", "s", "e", "en")  # Dutch compound linking sounds: friet|kar, passagier|s|vliegtuig


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case without diacritics (cached: titles look up the same words often)."""
    return _fold(text)


@lru_cache(maxsize=200_000)
def fold_word(text: str) -> str:
    """A word as a lookup key: folded, letters, digits and hyphens only."""
    kept = "".join(c for c in fold(text).replace("’", "'") if c.isalnum() or c in "-'")
    return kept.strip("-'")


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """wordfreq's Dutch Zipf frequency of a lower-case word (0 when unknown)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "nl"))


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """simplemma's Dutch lemma (its case kept: a capitalised lemma is a name)."""
    import simplemma

    return str(simplemma.lemmatize(word, lang="nl"))


@lru_cache(maxsize=200_000)
def is_dutch_word(word: str, min_zipf: float = 2.8, min_part_zipf: float = 3.0) -> bool:
    """Whether ``word`` is a real Dutch word: frequent enough itself, an inflection of a
    frequent lemma, or a compound of real words (``frietkar`` = ``friet`` + ``kar``)."""
    w = word.lower().strip("-'’")
    if not w or not w.replace("-", "").replace("'", "").isalpha():
        return False
    if "-" in w:
        return all(is_dutch_word(p, min_zipf, min_part_zipf) for p in w.split("-") if p)
    if zipf(w) >= min_zipf:
        return True
    base = lemma(w).lower().replace("_", "")
    if base != w and zipf(w) >= 1.5 and zipf(base) >= min_zipf:
        return True  # a rare inflection of a known word: overschrijdingen
    return _is_compound(w, min_part_zipf)


#: Prefixes and particles that make derivations and verb forms, not compounds: a misheard
#: word often reads as one of these glued to a real word (``vertongen``, ``hergeladen``).
_NOT_MODIFIERS_TEXT = """
    aan achter af bij binnen boven buiten door her hier in mee met mis na naar om on ont op
    over rond samen terug toe tegen uit van ver voor weg wan zelf zij
"""
_NOT_MODIFIERS = frozenset(_NOT_MODIFIERS_TEXT.split())


def _is_compound(word: str, min_part_zipf: float, depth: int = 0) -> bool:
    """``word`` = modifier + (linking s/e/en) + head, each part a real content word (the head
    may be a compound itself, two levels at most); short parts must be more frequent."""
    if depth > 1 or len(word) < 8:
        return False
    for cut in range(3, len(word) - 2):
        head = word[cut:]
        if len(head) < 3 or head in FUNCTION_WORDS or is_verb_form(head):
            continue
        if head.endswith(("end", "ende")):
            continue
        for link in _LINKS:
            modifier = word[:cut]
            if link and not modifier.endswith(link):
                continue
            part = modifier[: len(modifier) - len(link)] if link else modifier
            if len(part) < 3 or part in FUNCTION_WORDS or part in _NOT_MODIFIERS:
                continue
            if not _part_ok(part, min_part_zipf):
                continue
            if _part_ok(head, min_part_zipf) or _is_compound(head, min_part_zipf, depth + 1):
                return True
    return False


def _part_ok(part: str, min_part_zipf: float) -> bool:
    need = min_part_zipf + (0.8 if len(part) <= 3 else 0.0)
    return zipf(part) >= need


def is_name_like(word: str, sentence_start: bool) -> bool:
    """A proper name or acronym: capitalised inside a sentence, all capitals, or a name for
    simplemma (its lemma is capitalised)."""
    if not word[:1].isupper():
        return False
    if len(word) > 1 and word.isupper():
        return True
    if not sentence_start:
        return True
    return lemma(word)[:1].isupper()


_PRONOMINAL = ("hier", "daar", "waar", "er")
_PARTICLES_TEXT = (
    "uit in mee op aan van over voor bij door naar onder achter boven tussen tegen om toe"
)
_PARTICLES_TEXT += " af"
_PARTICLES = frozenset(_PARTICLES_TEXT.split())


def is_pronominal_adverb(word: str) -> bool:
    """``hieruit``, ``daarmee``, ``erin``: a pronoun glued to a preposition."""
    w = word.lower()
    return any(w.startswith(p) and w[len(p) :] in _PARTICLES for p in _PRONOMINAL)


def _third_person(w: str) -> list[str]:
    """Possible third-person forms of a word read as an infinitive (werken -> werkt)."""
    if w.endswith(("aan", "ien", "oen", "ijn")):
        return [w[:-1] + "t"]
    if not w.endswith("en") or len(w) < 5:
        return []
    stem = w[:-2]
    if len(stem) > 1 and stem[-1] == stem[-2]:
        stem = stem[:-1]  # zwemmen -> zwem
    if stem.endswith("v"):
        stem = stem[:-1] + "f"
    elif stem.endswith("z"):
        stem = stem[:-1] + "s"
    out = [stem + "t"]
    if len(stem) > 2 and stem[-2] in "aeou" and stem[-3] not in "aeiou":
        out.append(stem[:-1] + stem[-2] + stem[-1] + "t")  # maken -> maakt
    return out


def is_infinitive(word: str) -> bool:
    """``werken``, ``slaan``, ``maken``: a word whose third-person form lemmatises to it."""
    w = word.lower()
    return any(lemma(form).lower().replace("_", "") == w for form in _third_person(w))


def is_verb_form(word: str) -> bool:
    """A verb: an infinitive, a finite or past form (``krijgt``, ``kregen``, ``zeiden``,
    ``stapt``, ``opgeslagen``), judged from simplemma's lemmas."""
    w = word.lower()
    if w in FUNCTION_WORDS or is_pronominal_adverb(w):
        return True
    base = lemma(w).lower().replace("_", "")
    if base == w:
        return is_infinitive(w)
    if not base.endswith("n"):
        return False
    return not any(w == base + end for end in ("s", "'s", "en", "nen"))


_ADJ_SUFFIXES = ("ig", "lijk", "isch", "baar", "loos", "zaam", "end", "enlang")


def is_noun_like(word: str) -> bool:
    """Can head a noun phrase: no function word, verb form, bare adjective (``technisch``)
    or adjective used as a noun (``het bijzondere``)."""
    w = word.lower()
    if w in FUNCTION_WORDS or w in COMMON_ADJECTIVES or w.endswith(_ADJ_SUFFIXES):
        return False
    if is_verb_form(w):
        return False
    if w.endswith("ste") and (zipf(w[:-3]) >= 3.5 or zipf(w[:-2]) >= 3.5):
        return False  # a superlative used as a noun: de onderste, het bekendste
    if w.endswith("e") and not w.endswith(("ie", "ee")):
        base = lemma(w).lower()
        return base == w or base.endswith("e")
    return True


def is_adjective_like(word: str) -> bool:
    """An inflected adjective, participle or ordinal in front of a noun: ``grote``,
    ``gedeelde``, ``eerste``, or an uninflected one with an adjective suffix."""
    w = word.lower()
    if w in FUNCTION_WORDS or len(w) < 3:
        return False
    if w.endswith("e") and not w.endswith(("ie", "ee")):
        return True
    return w.endswith((*_ADJ_SUFFIXES, "eel", "ief", "aal"))
