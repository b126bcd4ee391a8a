"""High-recall rules for messages that need the safety reply before anything else.

The rules run on canonical text (see ``_normalize``): "can't" is "cannot", "I'm" is "i am", brand names
are generic names. They prefer a false alarm to a miss: the safety reply is short and kind, and a
missed emergency is the worst thing this bot could do.
"""

from __future__ import annotations

import re

_CRISIS = [
    r"\b(want|wanna|wish|going|ready|trying|tempted|plan(ning)?|thinking (about|of)|thought (about|of)) (to )?"
    r"(die|be dead|end (it|it all|things|my life|everything)|kill (my ?self|me)|not (be here|exist|wake up))",
    r"\bkill?(ing|s)? (my ?self|me)\b",
    r"\bkms\b",
    r"\b(suicid|sucid|suicd|suecid|suiced|sucide|siucid)",
    r"\bwants? to (die|dye|di|be dead|end it)\b",
    r"\bno (reason|point) (to|in) (keep going|keeping going|go on|going on|carry on|live|living|be here)\b",
    r"\bkill?(ing|s)? (herself|himself|themselves|themself)\b",
    r"\b(goodbye|good bye|suicide) (letter|letters|note|notes)\b",
    r"\b(what is|whats) the point (of|in) (\w+ ){0,3}(anymore|any more)\b",
    r"\b(tired|sick) of (fighting|trying|everything|it all)\b",
    r"\bnever come back\b",
    r"\b(sleep|go to sleep) (forever|for good|and never)\b",
    r"\bthinking (about|of) (ending|end) (it|things|my life|everything)\b",
    r"\b(what is|whats|see) the point (of|in) (living|life|going on|carrying on|being here|anything)\b",
    r"\bwant (it|this|everything|it all) (all )?to be over\b",
    r"\b(not|never) wake up\b",
    r"\bdone with (life|living|everything|it all)\b",
    r"\bdisappear (for good|forever)\b",
    r"\b(nobody|no one|noone) (would|will) (miss|notice|care)\b.*\b(gone|dead|died|disappeared)\b",
    r"\bif i (was|were) (gone|dead)\b",
    r"\bunalive\b",
    r"\bend(ing)? (it all|my life|my own life|things for good)\b",
    r"\b(take|taking|took) my (own )?life\b",
    r"\b(do not|dont|no longer) want to (live|be alive|be here|exist|wake up|go on|carry on)\b",
    r"\b(cannot|can not|cant|could not) (go on|carry on|keep going|do this any ?more|take (it|this) any ?more|"
    r"cope any ?more|live like this)\b",
    r"\b(no|not any|dont see (the|any)|do not see (the|any)|see no|lost (the|all)) (point|reason|will) "
    r"(in |to )?(living|live|go(ing)? on|carry(ing)? on|being alive|life|anymore|any more)\b",
    r"\bno (point|reason) (anymore|any more)\b",
    r"\bbetter off (dead|without me)\b",
    r"\b(hurt|hurting|harm|harming|cut|cutting|injure|injuring) (my ?self)\b",
    r"\bself ?harm",
    r"\boverdos",
    r"\b(take|taking|swallow) (all|the whole|a whole|every one of) (my|the) (pills|tablets|meds)\b",
    r"\b(tired|sick) of (living|being alive|life)\b",
    r"\blife (is|isnt|is not) (not )?worth (living|it)\b",
    r"\b(nothing|nobody|no one) to live for\b",
    r"\bwant (it|everything|this) (all )?to (end|stop) (for good|forever|permanently)\b",
    r"\b(give|giving) up on (life|living|everything)\b",
    r"\bdisappear forever\b",
    r"\bi am a burden\b",
]

_URGENT = [
    r"\b(i|i have|ive|i just|she|he|mother|father|partner|just) (fell|fallen|had a (bad |nasty )?fall)\b",
    r"\b(fell|fallen|a fall|slipped|tripped)\b.*\b(cannot|cant|can not|unable to|not able to|could not) "
    r"(get up|stand|walk|move|get off)",
    r"\b(cannot|cant|can not|unable to|not able to|could not) (get up|stand up|stand|walk|move my (leg|legs|arm|hip)"
    r"|bear (any )?weight|put (any )?weight)",
    r"\b(broke|broken|break|fracture|cracked|snapped) (my|her|his)\b",
    r"\b(think|thought|worried|sure|feels like|feel like|looks like|might have|may have|probably) "
    r"(i|it|it is|its|ive|i have|she|he|that|something)? ?(has |have |is |got )?(a |an )?"
    r"(broke|broken|fracture|cracked|snapped)",
    r"\b(possible|possibly|suspected|maybe a|might be a) (fracture|broken|break)",
    r"\bwhat (do|should) i do (right )?now\b",
    r"\b(fell|fallen|fall|tripped|slipped)\b.*\b(hurts|hurting|pain|agony|swollen|swelling|bruised|wrong shape|"
    r"deformed|bleeding|cannot move|cannot stand|cannot walk)\b",
    r"\b(hurts|pain|agony|swollen)\b.*\b(after|from) (a|the|my) (fall|trip|slip)\b",
    r"\b(wrong shape|out of shape|looks deformed|bent the wrong way|(weird|odd|strange|funny|wrong) angle)\b",
    r"\b(fell|fallen|tripped|slipped)\b.*\b(help|ambulance)\b",
    r"\b(rib|ribs|hip|back|spine|wrist|bone|ankle|leg|knee) (popped|cracked|snapped|gave way|went)\b",
    r"\b(in|now|such) agony\b",
    r"\bcannot get (up|off the floor|off the ground|out of bed)\b",
    r"\b(cannot|unable to|can not) move\b",
    r"\b(gave out|gave way|went) (with|and) (awful|terrible|severe|sharp|sudden|excruciating) pain\b",
    r"\b(fell|fallen) (on|onto|to|down|off|over) ",
    r"\b(legs?|knees?) (will not|wont|would not|cannot) (hold|support|carry) me\b",
    r"\b(broken|fractured|fracture|cracked|snapped) (hip|wrist|spine|back|leg|arm|rib|ribs|ankle|shoulder|"
    r"vertebra|neck|pelvis|bone|foot|elbow|collarbone|femur)\b",
    r"\bsomething (cracked|snapped|popped|broke|went)\b",
    r"\b(cracked|snapped|popped) in my\b",
    r"\b(heard|felt) (a |something )?(crack|snap|pop)\b",
    r"\b(my|her|his) (hip|wrist|spine|back|leg|arm|rib|ribs|ankle|shoulder|vertebra|neck|pelvis|bone) "
    r"(is|are|feels|looks|might be|may be|could be) (broken|fracture|cracked|snapped|deformed)",
    r"\b(sudden|severe|excruciating|unbearable|agonising|agonizing|extreme|terrible|awful|intense|crippling|worst)\b"
    r"( sudden| severe| sharp| stabbing| shooting| bad| terrible| awful)* (back|spine|spinal|hip|rib|chest|groin|neck|"
    r"leg) (pain|ache|agony)",
    r"\b(sudden|severe|excruciating|unbearable|agonising|agonizing|extreme|terrible|awful|intense|crippling|worst)\b"
    r"( sudden| severe| sharp| stabbing| shooting| bad| terrible| awful)* (pain|ache|agony) in (my|her|his) "
    r"(lower |upper )?(back|spine|hip|ribs?|chest|groin|neck|leg|pelvis)",
    r"\b(back|spine|hip|chest) (pain|agony) (is )?(so )?(severe|unbearable|excruciating|out of nowhere|suddenly)",
    r"\bchest pain",
    r"\b(cannot|cant|can not|struggling to|hard to) breathe\b",
    r"\b(ambulance|999|911|112|a and e|er now|emergency room)\b",
    r"\bleg (is )?(twisted|bent|turned) (the wrong way|out|outwards)",
    r"\bnumb(ness)? (in|down) (my|both) (legs|leg)\b",
    r"\blost (control of|feeling in) my (bladder|bowels|legs)\b",
    r"\b(bone|bones) (sticking|poking) out\b",
]

# Questions about risk, the future or the past are not emergencies: "will I break a bone?", "I broke my
# wrist years ago, am I at risk?". A present-tense cue ("now", "help", "can't") keeps the alarm on.
_NOT_NOW = re.compile(
    r"\b(will(?! not)|would(?! not)|could(?! not)|might|if|risk|risks|chance|chances|likely|likelihood|prevent|avoid|odds|"
    r"how many|percent|worried about|afraid of|scared of|fear of|in case|what happens|"
    r"years ago|year ago|months ago|last year|in the past|history|previous|previously|when i was|does that|"
    r"do i need|am i|is that common|is it common|how common|is that usual|is that normal for)\b"
)
_PRESENT_CUES = re.compile(
    r"\b(just now|right now|and now|today|this morning|tonight|last night|an hour|minutes ago|"
    r"cannot|cant|help me|please help|hurts|hurting|swollen|swelling|bleeding|agony)\b"
)

_CRISIS_RE = re.compile("|".join(f"(?:{p})" for p in _CRISIS))
_URGENT_RE = re.compile("|".join(f"(?:{p})" for p in _URGENT))


# Every rule above needs at least one of these words (or word beginnings): a message with none of them
# cannot match, and skipping the rules for it keeps the common case cheap. Add a rule, extend these.
_TRIGGER_WORDS = frozenset(
    [
        "die",
        "dye",
        "di",
        "dead",
        "end",
        "ending",
        "kill",
        "kms",
        "unalive",
        "life",
        "live",
        "living",
        "alive",
        "want",
        "wanna",
        "wish",
        "reason",
        "point",
        "will",
        "worth",
        "better",
        "burden",
        "letter",
        "letters",
        "note",
        "notes",
        "tired",
        "sick",
        "never",
        "sleep",
        "done",
        "over",
        "miss",
        "gone",
        "disappear",
        "wake",
        "give",
        "giving",
        "cannot",
        "cant",
        "can",
        "could",
        "not",
        "no",
        "nothing",
        "nobody",
        "noone",
        "pills",
        "tablets",
        "meds",
        "goodbye",
        "fell",
        "fallen",
        "fall",
        "tripped",
        "slipped",
        "unable",
        "able",
        "broke",
        "broken",
        "break",
        "fracture",
        "cracked",
        "crack",
        "snapped",
        "snap",
        "pop",
        "popped",
        "pain",
        "ache",
        "agony",
        "breathe",
        "ambulance",
        "999",
        "911",
        "112",
        "emergency",
        "er",
        "twisted",
        "bent",
        "turned",
        "numb",
        "numbness",
        "lost",
        "sticking",
        "poking",
        "shape",
        "deformed",
        "angle",
        "gave",
        "went",
        "hurts",
        "hurting",
        "swollen",
        "swelling",
        "bleeding",
        "bruised",
        "now",
        "possible",
        "possibly",
        "suspected",
        "maybe",
        "might",
        "legs",
        "leg",
        "knees",
    ]
)
_TRIGGER_PREFIXES = (
    "kil",
    "suic",
    "sucid",
    "suecid",
    "siucid",
    "overdos",
    "self",
    "myself",
    "herself",
    "himself",
    "themsel",
    "harm",
    "hurt",
    "cut",
    "injur",
)


def _may_need_safety(canonical_text: str) -> bool:
    words = canonical_text.split()
    return not _TRIGGER_WORDS.isdisjoint(words) or any(w.startswith(_TRIGGER_PREFIXES) for w in words)


def safety_intent(canonical_text: str) -> str | None:
    """Return ``crisis`` or ``urgent_symptoms`` when the message needs the safety reply, else None."""
    if not _may_need_safety(canonical_text):
        return None
    if _CRISIS_RE.search(canonical_text):
        return "crisis"
    match = _URGENT_RE.search(canonical_text)
    if match is None:
        return None
    if _NOT_NOW.search(canonical_text) and not _PRESENT_CUES.search(canonical_text):
        return None
    return "urgent_symptoms"
