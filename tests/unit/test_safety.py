"""The safety layer's parts: rules and idioms, other languages, the gate, numbers by country, its checks."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.contacts import ContactsError, EmergencyDirectory, country_code
from bot.content import content_root, load_knowledge_base
from bot.matching import Matcher
from bot.safety import CRISIS, URGENT, LanguageGuesser, Lexicon, RuleHit, rule_hit, without_idioms
from bot.safety._check import check_safety_data, check_safety_lines
from bot.safety._detector import LONG_MESSAGE_WORDS, MAX_PASSAGES, SafetyDetector, SafetyVerdict, _passages
from bot.safety._dose import DoseCueError, DoseCues
from bot.safety._gate import AlarmGate
from bot.safety._lexicon import LexiconError
from bot.safety._rules import PatternList
from bot.safety._semantic import (
    CLASSES,
    PROBE_OFFSET,
    PROBE_WEIGHT,
    BankError,
    ExemplarIndex,
    LinearProbe,
    SemanticScores,
    Vectors,
    read_bank,
)
from bot.service._safety import _load_followups

KNOWLEDGE = load_knowledge_base(content_root())
LEXICAL = Matcher(KNOWLEDGE)  # rules and other-language phrases, no model: fast and deterministic


def canonical(text: str) -> str:
    return LEXICAL.normalizer.analyse(text).corrected


def hit_of(text: str) -> RuleHit | None:
    """Read the text as the detector does: spelling corrected, and as spelled (a fix can spoil a word)."""
    analysis = LEXICAL.normalizer.analyse(text)
    return rule_hit(analysis.corrected) or rule_hit(analysis.spelled)


# -- rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("i just want it all to end", CRISIS, "crisis"),
        ("i want to stop living like this", CRISIS, "crisis"),
        ("ive been saving up my sleeping pills", CRISIS, "crisis"),
        ("wrote a goodbye letter to my kids", CRISIS, "crisis"),
        ("im going to take an overdose tonight", CRISIS, "crisis"),
        ("i cant feel my legs", URGENT, "injury"),
        ("her back still hurts a week after that fall and its getting worse", URGENT, "injury"),
        ("i accidentally took 2 pills of arimidex today", URGENT, "overdose"),
        ("i overdosed on anastrozole by mistake", URGENT, "overdose"),
        ("my toddler swallowed one of my letrozole tablets", URGENT, "overdose"),
        ("i fell and my hip hurts so much i cant take it anymore", URGENT, "injury"),
        # Warning signs from crisis-line guidance, in words that name no method or "suicide".
        ("if the next scan is bad im ending it", CRISIS, "crisis"),
        ("ive started cutting again, nobody knows", CRISIS, "crisis"),
        ("i keep the blades out of my razor in a drawer", CRISIS, "crisis"),
        ("read up on how to make it look like an accident", CRISIS, "crisis"),
        ("he googled how many of his heart pills it would take", CRISIS, "crisis"),
        ("my daughter found she has been looking up overdoses", CRISIS, "crisis"),
        ("she has two months of diazepam put by", CRISIS, "crisis"),
        ("been keeping my sleeping tablets in a tin just in case", CRISIS, "crisis"),
        ("he says he wants to join my late mum soon and his pills are hidden in a drawer", CRISIS, "crisis"),
        ("dad has a rifle and says he will take care of it himself", CRISIS, "crisis"),
        ("she tripped on the step and her wrist looks deformed", URGENT, "injury"),
        ("mum gave her rings away to the grandchildren and says she wont need them", CRISIS, "crisis"),
        ("my husband keeps apologising for being a burden", CRISIS, "crisis"),
        ("my friend texted thank you for everything, look after the dog for me", CRISIS, "crisis"),
        ("ive been stockpiling my late husbands morphine", CRISIS, "crisis"),
        ("stopped all my tablets on purpose, nobody knows", CRISIS, "crisis"),
        ("whats the point of the scan, i dont plan on being around by spring", CRISIS, "crisis"),
        ("she wont be here by christmas, she has said so and she means it", CRISIS, "crisis"),
        ("dad left a letter for after and asked us not to open it till the weekend", CRISIS, "crisis"),
        ("my sister has given away her cat and her rings", CRISIS, "crisis"),
        ("been reading which of my tablets would be deadly together", CRISIS, "crisis"),
        ("is an overdose painless", CRISIS, "crisis"),
        ("he looked up how long it takes to bleed out", CRISIS, "crisis"),
        ("i wont be here for my next scan, ive sorted everything", CRISIS, "crisis"),
        # The val4 round: hoping the illness does it, methods looked up, means and a time chosen.
        ("honestly i hope the cancer comes back fast and takes me", CRISIS, "crisis"),
        ("my brother has been searching how much of his insulin would be fatal", CRISIS, "crisis"),
        ("she bought an exit bag online", CRISIS, "crisis"),
        ("ive kept the codeine in a tin, enough for when i decide", CRISIS, "crisis"),
        ("i want to go on my own terms and ive worked out how and when", CRISIS, "crisis"),
        ("ive decided to end things after the holidays", CRISIS, "crisis"),
        ("my dad locked himself in the bathroom with his pills", CRISIS, "crisis"),
        ("took 3 anastrozole instead of one this morning, does that matter", URGENT, "overdose"),
        ("i think i took my husbands tablets and mine at breakfast", URGENT, "overdose"),
        ("mum forgets shes had them and has had four of her tablets since lunch", URGENT, "overdose"),
        ("sharp pain down my leg and i cant lift my left foot", URGENT, "injury"),
        # The val5 round.
        ("ive been keeping my exemestane aside instead of taking it", CRISIS, "crisis"),
        (
            "not taking the tablets, hoping it spreads and finishes the job, easier than doing it myself",
            CRISIS,
            "crisis",
        ),
        ("been reading about how many of my sleeping pills it takes", CRISIS, "crisis"),
        ("my daughter has been cutting her arms again and says she wishes she was dead", CRISIS, "crisis"),
        ("i dont intend to see the new year, the scan can go to someone else", CRISIS, "crisis"),
        (
            "the new carer gave them to him again, so grandad has taken his tablets twice today",
            URGENT,
            "overdose",
        ),
        ("been planning how to end it for weeks now", CRISIS, "crisis"),
        ("sat in the garage last night with the engine running", CRISIS, "crisis"),
        ("ive picked a date. please cancel my reminders", CRISIS, "crisis"),
        ("would jumping off the multistorey car park kill you", CRISIS, "crisis"),
        ("if i took the whole box at once would it hurt", CRISIS, "crisis"),
        ("how long before anyone would find me if i stopped eating", CRISIS, "crisis"),
        ("she rang to say goodbye and now she wont pick up", CRISIS, "crisis"),
        ("my husband took a knife into the bathroom and locked the door", CRISIS, "crisis"),
        ("oddly calm today, the letters are written and the cat has gone to my sister", CRISIS, "crisis"),
        ("three months of tablets, a bottle of gin and no reason left", CRISIS, "crisis"),
        ("took my husbands letrozole instead of my own this morning", URGENT, "overdose"),
        ("cant pee since this morning and my back is agony", URGENT, "injury"),
        ("some nights i pray not to wake up", CRISIS, "crisis"),
        ("been wondering how to make it look like a fall", CRISIS, "crisis"),
        ("is there a painless way to go, asking for me", CRISIS, "crisis"),
        ("been putting aside a few of my husbands codeine every week", CRISIS, "crisis"),
        ("just tell me if it is enough, dont send me numbers", CRISIS, "crisis"),
        ("which of my pills would be the most dangerous mixed together", CRISIS, "crisis"),
        ("had a plan last night and got as far as filling the bath", CRISIS, "crisis"),
        ("why look after my bones when i dont plan on needing them much longer", CRISIS, "crisis"),
        ("my legs keep giving way since this afternoon and my back hurts", URGENT, "injury"),
        ("how much letrozole would be a fatal overdose", CRISIS, "crisis"),
        (
            "took a handful of my sleeping tablets on purpose, woke up this morning disappointed",
            CRISIS,
            "crisis",
        ),
        (
            "a fall down the stairs with my bones would look completely natural, would the insurance pay",
            CRISIS,
            "crisis",
        ),
        ("ive decided ive had enough and stopped eating and drinking on monday", CRISIS, "crisis"),
        (
            "mum says she's not going to wait for nature and has been squirrelling away her codeine",
            CRISIS,
            "crisis",
        ),
        ("giving my tools to my nephew, wont need them after the 14th", CRISIS, "crisis"),
        ("if someone took all their tablets at once would it be quick", CRISIS, "crisis"),
        ("the toddler chewed open a blister pack of my anastrozole", URGENT, "overdose"),
        ("took an extra 3 adex by mistake and now im dizzy", URGENT, "overdose"),
        ("took my tablets and then my wife's pills by mistake, i feel confused", URGENT, "overdose"),
        ("she fell and you can see the bone pushing against the skin", URGENT, "injury"),
        (
            "mixed up the boxes and took a whole weeks worth of my tablets at once, not on purpose",
            URGENT,
            "overdose",
        ),
        ("got codeine from three different chemists this week so no one would notice", CRISIS, "crisis"),
        ("if i stop taking everything, how long until it's over", CRISIS, "crisis"),
        ("i've been googling how high the bridge on the bypass is", CRISIS, "crisis"),
        ("they'd be better off with the life insurance, it pays out after two years", CRISIS, "crisis"),
        ("how many letrozole would do the job", CRISIS, "crisis"),
        ("i've got three months of my sleeping tablets put by. not for the pain", CRISIS, "crisis"),
        ("dad sat in the garage with a hosepipe and tape on the exhaust last night", CRISIS, "crisis"),
        ("she keeps asking me to help her finish it", CRISIS, "crisis"),
        ("my uncle banged his head on the bath and now he's slurring and confused", URGENT, "injury"),
        ("mum threw up blood this morning after all those painkillers", URGENT, "injury"),
        ("cut my hand on the tin lid and the bleeding won't stop", URGENT, "injury"),
        ("her ankle is a funny shape since she tripped on the kerb", URGENT, "injury"),
        ("he took his whole box of anastrozole thinking it was vitamins", URGENT, "overdose"),
        ("took my adex and then took another 2 because i forgot", URGENT, "overdose"),
        ("our spaniel chewed through a strip of my letrozole", URGENT, "pet"),
        ("the cat knocked the pill pot over and i caught him chewing one", URGENT, "pet"),
        ("my nose has been bleeding for over an hour and it won't slow down", URGENT, "injury"),
        ("been coughing up blood since lunchtime", URGENT, "injury"),
        ("took my letrozole, forgot and took another, then two sleeping tablets", URGENT, "overdose"),
        ("honestly i wouldn't mind not waking up tomorrow", CRISIS, "crisis"),
        ("how many of these would it take to stop someone's heart", CRISIS, "crisis"),
        ("if i stopped eating would anybody even notice", CRISIS, "crisis"),
        ("i've picked a date. please stop the reminders after that", CRISIS, "crisis"),
        ("one bad fall down these stairs would solve everything", CRISIS, "crisis"),
        ("she says she's a burden and asked where the key to the gun cabinet is", CRISIS, "crisis"),
        ("i've kept all this month's tablets in a tub in case i decide", CRISIS, "crisis"),
        ("she has been hiding her sleeping pills in a little tin under the pillow", CRISIS, "crisis"),
        ("sometimes i sit holding the gun just to see how it feels", CRISIS, "crisis"),
        ("the kids would be better without me", CRISIS, "crisis"),
        ("i looked up the height of the car park roof", CRISIS, "crisis"),
        (
            "letters for each of the grandchildren are in the drawer, i won't need the reminders",
            CRISIS,
            "crisis",
        ),
        ("he came off his bike and the collarbone is sticking up under the skin", URGENT, "injury"),
        ("fell yesterday, now my ankle is huge and purple", URGENT, "injury"),
        ("slipped on the step and her wrist is shaped like a fork", URGENT, "injury"),
        ("wet myself without noticing and my back is agony", URGENT, "injury"),
        ("dad misread the label and has been taking it every day instead of weekly", URGENT, "overdose"),
    ],
)
def test_rules_raise_the_right_kind(text: str, kind: str, reason: str) -> None:
    hit = hit_of(text)
    assert hit is not None and (hit.kind, hit.reason) == (kind, reason)


@pytest.mark.parametrize(
    "text",
    [
        "these hot flashes are killing me",
        "this scan is killing me, the wait is awful",
        "my back is killing me since i started arimidex",
        "dying to know my results",
        "dead tired all the time",
        "i could kill for a coffee",
        "my oncologist will kill me if i miss another scan",
        "should i stop taking it then?? i dont want to break my hip",
        "my mum broke her hip at 70, am i at risk",
        "i broke my wrist five years ago, does that matter",
        "i had a fall last year but didnt hurt myself",
        "what happens if i take two tablets by mistake",
        "im scared of falling and breaking something",
        "the waiting kills me",
        "it kills me to see my mum so tired on these tablets, how can i support her",
        "kill me now, the letter says my scan is at 7am on a sunday",
        "im not suicidal, just fed up with the hot flushes",
        "tripped over the dog at the party, no harm done",
        "my sister fell last winter and broke her wrist, how do i avoid that",
        "im ending it with letrozole early, can i switch to exemestane",
        "how much vitamin d would it take to raise my levels",
        "if i forget the scan again my husband will kill me",
        "my knees are killing me after the walk",
        "i fell asleep during the dexa scan, is that ok",
        "my dad fell off the step yesterday but got straight back up, not a scratch",
        "is it possible to overdose on calcium tablets",
        "is it painless to have a dexa scan",
        "see you on the other side of my surgery!",
        "i wont be here for my scan next month, were on holiday, can i move it",
        "does the dexa scan hurt? is it painless?",
        "i hoped it would be over by now, the joint pain i mean",
        "i just want this scan over and done with",
        "not suicidal or anything, just sick of hot flushes",
        "im low but i dont want to hurt myself, could it be the tablets",
        "im going to end it with my trt clinic, can my gp prescribe instead",
        "i self harmed as a teenager and the scars show when they take blood",
        "fell on the ice in january, x ray was clear, should i tell my oncologist",
        "i stopped all my supplements on purpose before the scan like they asked",
        "lost my sister to suicide years ago and her anniversary is hard, is there a counsellor",
        "im moving to my sons in australia so i wont be around for the march scan",
        "tripped over the cat, landed on my bum, no pain and got up fine",
        "read about how much vitamin d it takes to reach a normal level",
        "fell over at the shops, got straight back up, nothing hurts, how do i stop falling",
        "my dad fell last night, got himself up, no pain, the gp says a falls assessment might help",
        "honestly fed up, not suicidal, just tired of the appointments",
        "wont be around next month, moving up to my daughters, can i transfer my scan",
        "this is probably my last message, switching to a new clinic in the new town",
        "my husband says if i mention calcium one more time hes going to jump off a bridge",
        "ive picked a date for my dexa, is a morning slot better",
        "i dont intend to grow old gracefully, which exercise is best for my bones",
        "i dont want to die, i want to see my granddaughter grow up, so the fracture risk scares me",
        "been down since starting exemestane, no thoughts of hurting myself, just flat",
        "im tired of fighting, not in a dark way, can i push the dexa back a month",
        "im fed up but im safe, please dont send me helpline numbers, just want to know about exercise",
        "my gp asked if i ever think about ending my life, i said no and i meant it",
        "i feel like a burden because my family have to drive me to every appointment",
        "i feel like a burden sometimes on my son having to drive me about, but im not thinking of anything stupid",
        "im low but im not thinking of hurting myself, is it the letrozole",
        "years ago i thought about ending it all, i got help and im in a good place now",
        "finished my five years of exemestane, wont be needing the reminders anymore",
        "my mum has fallen in love with aqua aerobics, is swimming good for bones",
        "had a little fall on the grass, got up on my own, nothing hurts",
        "dropped a tin on my foot, walking fine, no real swelling",
        "cut myself on some broken glass doing the washing up, just a plaster needed",
        "the deckchair gave way under me, bum bruised, pride bruised, nothing else",
        "helped mum sort out her pill box, she's saved up a few weeks of tablets for the cruise",
        "we've picked a date for the wedding, will my dexa clash",
        "my dog ate my slipper again, any tips for calcium rich snacks",
        "my chest feels tight when i think about the results, it's just nerves",
        "can't go on like this with these hot flushes, any tips",
        "honestly this drug is trying to kill me, every joint aches",
        "i'm going to overdose on chocolate this christmas, is dark chocolate ok",
        "ugh kill me, they've moved my scan again",
    ],
)
def test_idioms_history_and_fears_raise_no_rule(text: str) -> None:
    assert hit_of(text) is None


@pytest.mark.parametrize(
    ("text", "swallowed"),
    [
        ("my toddler got into my tablets but the packet was still sealed", False),
        ("my grandson got into my pill box, i counted and nothing is missing", False),
        ("my daughter got into my handbag and had my letrozole in her hand but i grabbed it off her", False),
        ("my toddler got into my tablets, the packet was sealed but some are missing", True),
        ("my toddler got into my tablets", True),
    ],
)
def test_a_mishap_with_nothing_swallowed_is_answered_with_the_emergency_line(
    text: str, swallowed: bool
) -> None:
    # Every message here trips the overdose rule; only those that say nothing went down are let through.
    verdict = LEXICAL.safety_detector.assess(text)
    if swallowed:
        assert verdict.kind == URGENT and verdict.reason == "overdose"
    else:
        assert verdict.kind is None and verdict.ambiguous


def test_idioms_are_removed_but_the_person_is_kept() -> None:
    assert "killing" not in without_idioms("these hot flashes are killing me")
    assert rule_hit(canonical("i am going to kill myself")) is not None
    assert rule_hit(canonical("this is killing me and i want to kill myself")) is not None


# -- other languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("quiero morirme", "es"),
        ("я не хочу жить", "ru"),
        ("не хочу більше жити", "uk"),
        ("je veux mourir", "fr"),
        ("ich will nicht mehr leben", "de"),
        ("nie chcę już żyć", "pl"),
        ("voglio morire", "it"),
        ("ok", "en"),
        ("hi", "en"),
        ("dexa?", "en"),
        ("how often should i have a dexa scan", "en"),
    ],
)
def test_language_guesser(text: str, language: str) -> None:
    guesser = LANGUAGE
    assert guesser.identify(text) == language


LANGUAGE = LanguageGuesser(LEXICAL.normalizer.english_words)


@pytest.mark.parametrize(
    ("language", "text", "kind"),
    [
        ("es", "quiero morirme", CRISIS),
        ("fr", "quelle dose de létrozole serait mortelle ?", CRISIS),
        ("fr", "j'ai choisi la date, ce sera après noël", CRISIS),
        ("it", "mi faccio dei tagli sulle braccia quando non dormo", CRISIS),
        ("it", "ha detto che questa è l'ultima notte e abbiamo trovato pillole nascoste", CRISIS),
        ("uk", "я не бачу сенсу, іноді ріжу собі руку", CRISIS),
        ("es", "lo tengo todo pensado para después de reyes", CRISIS),
        ("pl", "dziadek spadł z łóżka i nie może ruszyć nogą", URGENT),
        ("pl", "mąż przez pomyłkę wziął moje tabletki", URGENT),
        ("pt", "a minha mãe tomou os remédios do meu pai achando que eram dela", URGENT),
        ("pt", "senti um estalo na coluna e não consigo respirar de dor", URGENT),
        ("es", "no siento bien las piernas y me duele mucho la espalda", URGENT),
        ("fr", "il est par terre depuis ce matin et n'arrive pas à se relever", URGENT),
        ("uk", "онука розкусила таблетку летрозолу", URGENT),
        ("es", "me caí y tengo un dolor muy fuerte en la espalda, no puedo moverme", URGENT),
        ("fr", "je n'en peux plus, je veux en finir", CRISIS),
        ("de", "ich bin gestürzt und kann nicht aufstehen", URGENT),
        ("ru", "я не хочу жить", CRISIS),
        ("pt", "não quero mais viver", CRISIS),
        ("it", "sono caduta e non riesco ad alzarmi", URGENT),
        ("pl", "nie chcę już żyć", CRISIS),
        ("uk", "не хочу більше жити", CRISIS),
        ("uk", "онук проковтнув мої таблетки", URGENT),
        ("uk", "мій чоловік сказав що покінчить з собою", CRISIS),
        ("ru", "она сказала что покончит с собой", CRISIS),
        # Giving prized things away, and saying one is a burden: warning signs in crisis-line guidance.
        ("ru", "папа раздал свои вещи соседям", CRISIS),
        ("pl", "babcia rozdała swoje rzeczy wnukom", CRISIS),
        ("es", "siento que soy una carga para todos", CRISIS),
        ("uk", "я стала тягарем для всіх", CRISIS),
        ("ru", "по ошибке выпила летрозол дважды", URGENT),
        ("pt", "o meu neto engoliu umas pilulas da avó", URGENT),
        ("it", "mia madre ha smesso apposta tutte le medicine", CRISIS),
        ("es", "me he vuelto a cortar los brazos", CRISIS),
        ("pt", "fiquei pesquisando qual remédio mata mais rápido", CRISIS),
        ("ru", "какая доза снотворного смертельна", CRISIS),
        ("it", "stasera prendo le pastiglie che ho messo da parte", CRISIS),
        ("de", "Opa ist verwirrt und hat die ganze Packung genommen", URGENT),
        ("es", "mi madre con demencia se ha tomado la caja entera", URGENT),
        ("pl", "czytałam, jak to zrobić, żeby nie bolało", CRISIS),
        ("pt", "quero dormir e não acordar mais", CRISIS),
        ("ru", "мама специально перестала пить все таблетки", CRISIS),
        ("de", "Sturz beim Wandern, die Schulter steht komisch ab", URGENT),
        ("pl", "nadgarstek jest wygięty i spuchnięty", URGENT),
        ("pl", "znowu się tnę", CRISIS),
        ("fr", "je mets mes comprimés de côté depuis des semaines", CRISIS),
        ("pt", "não pretendo estar aqui no ano que vem", CRISIS),
        ("it", "penso di buttarmi dal balcone", CRISIS),
        ("fr", "de quelle hauteur faut-il tomber pour que ce soit fatal ?", CRISIS),
        ("ru", "сколько таблеток надо выпить, чтобы уснуть и не проснуться", CRISIS),
        ("pl", "tata wziął podwójną dawkę wszystkich leków", URGENT),
        ("ru", "коплю снотворное, уже почти хватит", CRISIS),
        ("fr", "mon chien a avalé deux comprimés de letrozole", URGENT),
        ("pl", "kot pogryzł blister z letrozolem", URGENT),
        ("es", "he vomitado sangre esta mañana", URGENT),
        ("pt", "quantos comprimidos seriam precisos para uma overdose fatal?", CRISIS),
        ("de", "ritz mich wieder jeden Abend", CRISIS),
        ("fr", "j'ai pensé à me jeter du pont", CRISIS),
        ("uk", "бабуся вже й день вибрала", CRISIS),
        ("pt", "tem um osso aparecendo na perna", URGENT),
        ("it", "la badante ha dato a papà le pasticche della zia", URGENT),
        ("de", "Opa liegt im Bad, ein Bein ist kürzer und nach außen gedreht", URGENT),
        ("pl", "mama nie może stanąć na nogę, kostka jest krzywa", URGENT),
        # Nothing broken is not all right when she cannot get up.
        ("es", "me caí en la cocina, nada roto pero no puedo levantarme", URGENT),
    ],
)
def test_other_language_phrases(language: str, text: str, kind: str) -> None:
    hit = Lexicon.load().hit(language, text)
    assert hit is not None and hit.kind == kind


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "mi abuela se rompió la cadera a los 75, tengo más riesgo?"),
        ("de", "wie oft sollte ich eine knochendichtemessung machen?"),
        ("fr", "est-ce que le letrozole fait mal aux os ?"),
        # Not wanting to be a burden is how many people explain wanting to stay independent.
        ("es", "no quiero ser una carga para mis hijos si me rompo la cadera"),
        ("ru", "не хочу быть обузой для детей, как сохранить кости"),
        ("es", "me quiero morir de la vergüenza, me dormí en la densitometría"),
        ("ru", "настроение плохое, но мыслей навредить себе нет"),
        ("it", "ho messo da parte le pastiglie per il viaggio in america"),
        ("fr", "je suis tombée au marché, rien de cassé, même pas mal. je dois le signaler ?"),
        ("de", "bin im garten gestolpert, nix passiert, keine schmerzen"),
        ("de", "bin auf den hintern gefallen, tut nix weh, bin alleine aufgestanden"),
        ("fr", "ces douleurs vont me tuer, c'est normal sous anastrozole ?"),
        ("pt", "não vou estar aqui no dia do exame, vou viajar, como remarco?"),
        # Saying there are no such thoughts is not having them.
        ("es", "estoy triste pero no pienso hacerme daño"),
        ("pt", "desanimada mas sem pensamento nenhum de me machucar"),
        ("it", "giù di morale ma nessun pensiero di farmi del male"),
        ("fr", "le moral à zéro mais je ne pense pas du tout à me faire du mal"),
    ],
)
def test_other_language_questions_raise_nothing(language: str, text: str) -> None:
    assert Lexicon.load().hit(language, text) is None


def test_a_lexicon_language_needs_both_sides_of_a_harmless_fall(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text(
        "es:\n  crisis: [morir]\n  urgent: [caida]\n  overdose: [sobredosis]\n  unharmed: [sin dolor]\n"
    )
    with pytest.raises(LexiconError, match="unharmed and still_hurt together"):
        Lexicon.load(lexicon)


WORDS = ["i", "want", "to", "die", "end", "it", "all", "fell", "hip", "not", "the", "a", "pills", "now"]
PATTERNS = [
    r"\bwant to (die|end it)\b",
    r"\bend it( all)?\b",
    r"\bfell\b.*\bhip\b",
    r"^i\b",
    r"(?<!not )\bdie\b",
]


@given(st.lists(st.sampled_from(WORDS), max_size=12), st.permutations(PATTERNS))
def test_a_pattern_list_finds_what_one_alternation_finds(words: list[str], patterns: list[str]) -> None:
    text = " ".join(words)
    joined = re.compile("|".join(f"(?:{p})" for p in patterns)).search(text)
    found = PatternList(patterns).search(text)
    assert (found and (found.span(), found.re.pattern)) == (
        joined and (joined.span(), next(p for p in patterns if re.compile(p).match(text, joined.start())))
    )
    assert PatternList(patterns).found_in(text) == (joined is not None)


def test_every_message_of_the_issue_in_another_language_is_an_alarm_without_the_model() -> None:
    for text in ("quiero morirme", "я не хочу жить", "me caí y tengo un dolor muy fuerte en la espalda"):
        assert LEXICAL.match(text).safety


# -- the gate ----------------------------------------------------------------------------------------


def test_the_gate_lets_through_every_alarm_it_must() -> None:
    alarms = ["nobody would notice if i was gone", "i have enough tablets saved now", "my legs went numb"]
    calm = ["how often is a dexa scan", "what is a t score", "does letrozole thin bones", "hi", "thanks"]
    gate = AlarmGate.fit(alarms, calm)
    assert all(gate.passes(text) for text in alarms)
    assert not gate.passes("what is a t score")


def test_one_odd_alarm_in_hundreds_does_not_set_the_gates_bar() -> None:
    usual = [f"i have {n} tablets saved and i want it over" for n in range(300)]
    odd = "qwzx vbnm"
    calm = ["how often is a dexa scan", "what is a t score", "does letrozole thin bones", "hi", "thanks"]
    gate = AlarmGate.fit([*usual, odd], calm)
    assert all(gate.passes(text) for text in usual)
    assert gate.bar > gate.score(odd)


# -- the semantic layer -------------------------------------------------------------------------------


class KeywordEmbedder:
    """Stand in for the model: a passage that names the zebra is an alarm, unless it is long.

    Like a mean-pooled embedding, it loses one alarming sentence in a long story.
    """

    name = "keyword"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.seen.extend(texts)
        alarm = np.array([1.0, 0.0], dtype=np.float32)
        calm = np.array([0.0, 1.0], dtype=np.float32)
        return np.stack([alarm if "zebra" in t and len(t.split()) < 30 else calm for t in texts])


def keyword_detector() -> tuple[SafetyDetector, KeywordEmbedder]:
    embedder = KeywordEmbedder()
    bank = {name: [name] for name in CLASSES}
    alarm_side = {"crisis", "urgent", "overdose"}
    vectors = np.array([[1.0, 0.0] if name in alarm_side else [0.0, 1.0] for name in CLASSES], np.float32)
    index = ExemplarIndex(embedder, bank, vectors)
    detector = SafetyDetector(lambda text: (text.lower(),), LANGUAGE, Lexicon.load(), index)
    return detector, embedder


STORY = (
    "Three years on these tablets now. My joints ache every morning and the nights are long. "
    "The family have their own lives and rarely call, which I understand. "
    "The garden has gone to seed and I have stopped going to the choir on Thursdays. "
    "Tonight the zebra came back."
)


def test_a_long_message_is_read_in_passages_and_its_last_sentence_counts() -> None:
    assert len(STORY.split()) >= LONG_MESSAGE_WORDS
    passages = _passages(STORY)
    assert passages[-1] == "Tonight the zebra came back."
    assert all(len(p.split()) < len(STORY.split()) for p in passages)
    detector, embedder = keyword_detector()
    verdict = detector.assess(STORY)
    assert (verdict.kind, verdict.layer) == (CRISIS, "semantic")
    assert STORY.lower() not in embedder.seen  # the diluted whole is never what decides


def test_the_model_reads_at_most_a_few_passages_of_a_very_long_message() -> None:
    story = " ".join(f"The zebra came back tonight {n} times." for n in range(12))
    detector, embedder = keyword_detector()
    gate = AlarmGate.fit(["the zebra came back tonight", story], ["the horse is fine", "how often is a scan"])
    gated = SafetyDetector(
        detector._canonical_forms, detector.guesser, detector.lexicon, detector.index, gate
    )
    assert len(_passages(story)) > MAX_PASSAGES
    assert gated.assess(story).kind == CRISIS
    assert len(embedder.seen) == MAX_PASSAGES


def test_the_model_can_overrule_the_broad_fall_rules_but_not_the_crisis_rules() -> None:
    detector, _ = keyword_detector()
    calm_fall = detector.assess("my partner fell over at the wedding and laughed it off")
    assert (calm_fall.kind, calm_fall.ambiguous) == (None, True)  # answered, with the emergency line
    assert detector.assess("my partner fell over by the zebra").kind == URGENT
    assert detector.assess("i want to kill myself, my partner laughed it off").kind == CRISIS


def test_the_model_raises_no_injury_alarm_on_a_fall_that_hurt_nobody() -> None:
    class InjuryEmbedder:
        name = "injury"

        def embed(self, texts: Sequence[str]) -> Vectors:
            injury, calm = np.array([0.0, 1.0, 0.0], np.float32), np.array([0.0, 0.0, 1.0], np.float32)
            return np.stack([injury if "giraffe" in t else calm for t in texts])

    bank = {name: [name] for name in CLASSES}
    side = {"crisis": [1.0, 0.0, 0.0], "urgent": [0.0, 1.0, 0.0], "overdose": [0.0, 0.9, 0.1]}
    vectors = np.array([side.get(name, [0.0, 0.0, 1.0]) for name in CLASSES], np.float32)
    index = ExemplarIndex(InjuryEmbedder(), bank, vectors)
    detector = SafetyDetector(lambda text: (text.lower(),), LANGUAGE, Lexicon.load(), index)
    harmless = detector.assess("tripped over the giraffe rug in the hall, no pain, got up fine")
    assert (harmless.kind, harmless.ambiguous) == (None, True)  # answered, with the emergency line
    assert detector.assess("the giraffe thing happened again this evening").kind == URGENT
    assert (
        detector.assess("tripped over the giraffe rug in the hall, no pain but cannot get up").kind == URGENT
    )
    french = detector.assess("tombée sur le tapis girafe au salon, rien de cassé, même pas mal")
    assert french.kind is None


def test_a_short_english_message_needs_a_wider_margin() -> None:
    detector, _ = keyword_detector()
    # The stand-in model puts every zebra message 1.0 nearer the alarms: enough for a margin of 0.6, not
    # for the doubled margin a message of fewer than SHORT_MESSAGE_WORDS words needs.
    strict = SafetyDetector(
        detector._canonical_forms,
        detector.guesser,
        detector.lexicon,
        detector.index,
        alarm_margin={"en": 0.6, "other": 0.6},
    )
    short = strict.assess("the zebra came back")
    assert (short.kind, short.ambiguous) == (None, True)
    assert strict.assess("the zebra came back again tonight, all of it").kind == CRISIS


def test_a_short_message_is_read_whole() -> None:
    detector, embedder = keyword_detector()
    assert detector.assess("the zebra is back again tonight").kind == CRISIS
    assert embedder.seen == ["the zebra is back again tonight"]
    assert detector.assess("the horse is back again tonight").kind is None


def test_a_dose_question_is_one_the_model_puts_nearer_dose_questions_than_anything_ordinary() -> None:
    def scores(calm: float, dose: float) -> SemanticScores:
        return SemanticScores(
            {"crisis": 0.80, "urgent": 0.80, "overdose": 0.88, "calm": calm, "dose_question": dose}
        )

    assert SafetyVerdict(None, language="es", scores=scores(calm=0.90, dose=0.91)).dose_question
    assert not SafetyVerdict(None, language="es", scores=scores(calm=0.92, dose=0.91)).dose_question
    # An alarm is never a dose question, and a message the model did not read cannot be one.
    alarm = SafetyVerdict(URGENT, "overdose", "es", "semantic", scores=scores(calm=0.90, dose=0.91))
    assert not alarm.dose_question
    assert not SafetyVerdict(None, language="es").dose_question


# -- dose cues -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "threw up about half an hour after taking my Arimidex, should I take another one?",
        "forgot my letrozole yesterday, do I take 2 today to catch up?",
        "Mum has trouble swallowing, can her letrozole tablet be crushed into yogurt?",
        "skipped my adex over the weekend because I was away, do i double up monday",
        "doc said 1mg but im only 45kg, can i just take half",
        "flying to australia next month, how do i time my letrozole with the time difference",
        "can i take my pill every 36 hours instead of 24 to stretch my supply",
        "my alendronic acid is every monday but i forgot, can i do it wednesday instead",
        "thinking of dropping adex from 1mg a week to 0.5, should i just do it",
        "is it all right to have my letrozole with my evening meal rather than at breakfast",
        "can i come off the anastrozole for two weeks over christmas",
        "my prolia injection is a month overdue, do i just have it now",
    ],
)
def test_english_dose_questions_are_told_by_their_words(text: str) -> None:
    verdict = LEXICAL.safety_detector.assess(text)
    assert verdict.kind is None and verdict.dose_cue and verdict.dose_question, text


@pytest.mark.parametrize(
    "text",
    [
        "how much is prolia without insurance",
        "how much calcium is in oat milk vs cow's milk",
        "Moving to Canada and my letrozole runs out in 6 weeks. How do I keep my DEXA schedule going?",
        "is it true that denosumab can cause jaw problems? I've got some dental work coming up",
        "the anastrozole is crushing my libido, any way round that",
        "could the reminders come once a week instead of every day? I'm on exemestane",
        "I walk the dog every day and do pilates twice a week, I'm on letrozole. Anything else to do?",
        "can i take half an hour off work for my dexa",  # a cue with no medicine named
    ],
)
def test_ordinary_questions_with_dose_like_words_are_not_dose_questions(text: str) -> None:
    assert not LEXICAL.safety_detector.assess(text).dose_cue, text


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Se me olvidó el anastrozol ayer, ¿hoy me tomo dos o sigo normal?"),
        ("fr", "l'acide alendronique, je peux le prendre le soir au coucher plutôt qu'à jeun le matin ?"),
        ("de", "kann ich die anastrozol dosis halbieren wegen der gelenkschmerzen?"),
        ("ru", "врач сказал adex 0.5 два раза в неделю, можно разбить на 0.25 четыре раза?"),
        ("pl", "Zapomniałam wczoraj wziąć letrozol, dziś wziąć dwie?"),
        ("uk", "Забула вчора випити летрозол, сьогодні випити дві?"),
    ],
)
def test_dose_questions_in_other_languages_are_told_by_their_words(language: str, text: str) -> None:
    cues = LEXICAL.safety_detector.dose_cues
    assert cues is not None and cues.asks_about_dose(language, [text]), text
    assert not cues.asks_about_dose(language, ["¿cada cuánto me toca la densitometría?"])


def test_the_dose_cues_file_is_checked(tmp_path: Path) -> None:
    cues = tmp_path / "cues.yaml"
    cues.write_text("en:\n  cue: [take two]\n")
    with pytest.raises(DoseCueError, match="needs exactly medicine and cue"):
        DoseCues.load(cues)
    cues.write_text("en:\n  medicine: [pills]\n  cue: ['(take']\n")
    with pytest.raises(DoseCueError, match="en/cue"):
        DoseCues.load(cues)
    cues.write_text("en:\n  medicine: [pills]\n  cue: [take two]\n")
    problems = check_safety_data(dose_cues=cues)
    assert f"{cues.name}: no dose cues for 'es'" in problems
    assert not any("no dose cues for 'en'" in p for p in problems)


def test_a_pet_near_tablets_that_swallowed_nothing_is_answered_with_the_emergency_line() -> None:
    verdict = LEXICAL.safety_detector.assess(
        "the cat chewed the corner of my letrozole box, the tablets are all sealed"
    )
    assert (verdict.kind, verdict.ambiguous) == (None, True)


def test_another_languages_crisis_phrase_outranks_an_english_urgent_word() -> None:
    verdict = LEXICAL.safety_detector.assess(
        "Quantos comprimidos seriam precisos para uma overdose fatal? É só curiosidade"
    )
    assert (verdict.kind, verdict.layer) == (CRISIS, "lexicon")


def test_a_dose_cue_makes_no_alarm_a_dose_question() -> None:
    assert SafetyVerdict(None, language="en", dose_cue=True).dose_question
    assert not SafetyVerdict(URGENT, "overdose", "en", "rules", dose_cue=True).dose_question


class WaitingEmbedder(KeywordEmbedder):
    """Stand in for a slow model: it finishes only once the event loop has run something else."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_ran = threading.Event()

    def embed(self, texts: Sequence[str]) -> Vectors:
        # If the model held the event loop, nothing could set the event: wait a while, then say so.
        assert self.loop_ran.wait(timeout=5), "the event loop was blocked while the model read"
        return super().embed(texts)


async def test_the_model_reads_off_the_event_loop() -> None:
    detector, _ = keyword_detector()
    embedder = WaitingEmbedder()
    assert detector.index is not None
    detector.index.embedder = embedder
    reading = asyncio.ensure_future(detector.assess_in_background("the zebra is back again tonight"))
    await asyncio.sleep(0.01)  # the loop serves another patient while the model works
    embedder.loop_ran.set()
    assert (await reading).kind == CRISIS
    # The rules need no model: a message they catch never waits for it.
    assert (await detector.assess_in_background("i want to kill myself")).layer == "rules"


# -- numbers by country ------------------------------------------------------------------------------


def test_the_country_comes_from_choice_then_zone_then_language_region_then_default() -> None:
    directory = EmergencyDirectory.load()
    assert directory.for_user(country="AU", timezone="Europe/London").emergency == "000"
    assert directory.for_user(timezone="Europe/London", language_code="pt-br").emergency == "999"
    assert "192" in directory.for_user(language_code="pt-br").emergency or directory.for_user(
        language_code="pt-br"
    ).country.endswith("Brazil")
    assert directory.for_user(default_timezone="America/Chicago").emergency == "911"
    fallback = directory.for_user(language_code="en")
    assert fallback.international and "112" in fallback.emergency


def test_the_contacts_table_covers_forty_countries_each_with_a_source() -> None:
    assert len(EmergencyDirectory.load()) >= 40
    assert check_safety_data(ordinary=Matcher.ordinary_questions(KNOWLEDGE)) == []


def test_an_unquoted_norway_key_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "contacts.yaml"
    table.write_text('NO: {country: Norway, emergency: "113", crisis: "116 123"}\n', encoding="utf-8")
    with pytest.raises(ContactsError, match="two-letter"):
        EmergencyDirectory.load(table)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Spain", "ES"), ("the united states", "US"), ("germny", "DE"), ("UK", "GB"), ("nowhere land", None)],
)
def test_country_names_as_patients_type_them(typed: str, code: str | None) -> None:
    assert country_code(typed) == code


# -- follow-ups --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "downplays"),
    [
        ("she says shes fine, can we wait till monday", True),
        ("its not that bad", True),
        ("i dont want to make a fuss", True),
        ("what is a dexa scan", False),
        ("how does denosumab work", False),
    ],
)
def test_downplaying_is_recognised(text: str, downplays: bool) -> None:
    assert bool(_load_followups().search(text)) is downplays


# -- checks ------------------------------------------------------------------------------------------


def test_the_shipped_safety_lines_pass_and_planted_faults_fail() -> None:
    lines = yaml.safe_load((content_root() / "answers" / "ui" / "safety_languages.yaml").read_text("utf-8"))
    assert check_safety_lines(lines) == []
    broken = {k: dict(v) for k, v in lines.items()}
    del broken["es"]["overdose"]
    broken["fr"]["crisis_call"] = "Appelez {crisis}."  # no emergency number
    broken["de"]["urgent"] = "<b>Hilfe {nummer}"
    broken.pop("uk")
    problems = "\n".join(check_safety_lines(broken))
    assert "es lacks overdose" in problems
    assert "fr.crisis_call must give the numbers" in problems
    assert "de.urgent uses unknown placeholders" in problems
    assert "no lines for 'uk'" in problems


def test_a_bank_with_an_unknown_class_is_refused(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text("crisis: [a]\nurgent: [b]\noverdose: [c]\ncalm: [d]\ndose_question: [e]\npanic: [f]\n")
    with pytest.raises(BankError, match="unknown classes"):
        read_bank(bank)


def test_the_probe_learns_which_side_of_the_bank_is_alarming() -> None:
    rng = np.random.default_rng(7)
    alarms = rng.normal((1.0, 0.2, 0.0), 0.1, size=(40, 3)).astype(np.float32)
    calm = rng.normal((0.2, 1.0, 0.0), 0.1, size=(60, 3)).astype(np.float32)
    probe = LinearProbe.fit(np.vstack([alarms, calm]), np.array([True] * 40 + [False] * 60))
    logits = probe.logits(np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]], np.float32))
    assert logits[0] > 2.0 and logits[1] < -2.0


def test_the_probe_can_raise_a_margin_but_never_lower_it() -> None:
    by_class = {"crisis": 0.90, "urgent": 0.85, "overdose": 0.85, "calm": 0.89, "dose_question": 0.80}
    nearest = 0.90 - 0.89
    assert SemanticScores(by_class, probe=-40.0).margin == pytest.approx(nearest)
    assert SemanticScores(by_class).margin == pytest.approx(nearest)
    sure = SemanticScores(by_class, probe=5.0).margin
    assert sure == pytest.approx(nearest + 5.0 * PROBE_WEIGHT - PROBE_OFFSET) and sure > nearest


def test_a_process_that_loads_the_cache_gets_the_probe_that_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text(
        "crisis: [zebra one, zebra two]\nurgent: [zebra three]\noverdose: [zebra four]\n"
        "calm: [horse one, horse two, horse three]\ndose_question: [horse four]\n"
    )
    written = ExemplarIndex.load(KeywordEmbedder(), bank)
    written.save_cache(bank)

    def no_fitting(*_: object) -> LinearProbe:
        raise AssertionError("the probe was fitted again instead of read from the cache")

    monkeypatch.setattr(LinearProbe, "fit", no_fitting)
    embedder = KeywordEmbedder()
    loaded = ExemplarIndex.load(embedder, bank)
    assert embedder.seen == []  # read from the cache, not embedded again
    assert loaded.is_cache_current(bank)
    np.testing.assert_allclose(loaded.probe.weights, written.probe.weights, rtol=1e-6)
    assert loaded.probe.bias == pytest.approx(written.probe.bias)


def test_a_stale_exemplar_cache_is_reported(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_text("crisis: [a]\nurgent: [b]\noverdose: [c]\ncalm: [d]\ndose_question: [e]\n")
    problems = check_safety_data(bank=bank)
    assert any("bank.npz is missing" in p for p in problems)
