"""Button actions: what a button asks for, as a short string that fits Telegram's 64-byte callback_data.

Every action is validated on the way back: a forged, truncated or stale string decodes to None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ACTION_BYTES = 64
_SAFE_ARG = re.compile(r"^[A-Za-z0-9_.:/+-]{0,48}$")


@dataclass(frozen=True)
class Action:
    """A decoded button press: a verb and its arguments."""

    verb: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        text = ":".join((self.verb, *self.args)) if self.args else self.verb
        if len(text.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"action {text!r} is longer than {MAX_ACTION_BYTES} bytes")
        return text


# verb -> allowed argument counts; the handlers check the arguments' meaning.
VERBS: dict[str, frozenset[int]] = {
    "more": frozenset({2}),  # more:<intent>:<level the reply should show>
    "topic": frozenset({1}),  # topic:<intent>
    "group": frozenset({1}),  # group:<group>
    "groups": frozenset({0}),  # the topic groups menu
    "consent": frozenset({1}),  # consent:yes|no
    "qadd": frozenset({1}),  # qadd:<index into questions_for_care_team.suggested_questions>
    "qdel": frozenset({1}),  # qdel:<saved question id>
    "qclear": frozenset({0, 1}),  # qclear[:confirm]
    "scan": frozenset({0}),  # start the scan-date flow
    "set": frozenset({1, 2}),  # set:<field>[:<value>] in /settings
    "tz": frozenset({1}),  # tz:<IANA zone>
    "tzskip": frozenset({0}),
    "forget": frozenset({1}),  # forget:yes|no
    "rem": frozenset({2}),  # rem:<verb>:<reminder id>  (ack, snz3h, snztm, change, cancel)
    "next": frozenset({2}),  # next:<scan id>:1y|2y|pick
    "ics": frozenset({1}),  # ics:<scan id>
    "scancancel": frozenset({1}),
    # scandate:<YYYY-MM-DD>[:<HHMM or ->[:<DMY|MDY>]] confirms a date the user was asked about; the order
    # is the one that reading follows, kept as the patient's choice.
    "scandate": frozenset({1, 2, 3}),
    "qask": frozenset({0}),  # ask for a question to add to the list
    "flowcancel": frozenset({0}),
    "reflect": frozenset({0, 1}),  # reflect[:<prompt key>]
    "bc": frozenset({2, 3}),  # bc:<aud|fmt|prev|change|discard|send|stop>:<broadcast id>[:<audience>]
    "tm": frozenset({2, 3}),  # tm:<invite|rotate|rotok|keep|leave|leaveok|contact|pick>:<team id>[:<arg>]
    "pt": frozenset({2}),  # pt:join:<join code> | pt:<nojoin|leave|leaveok|stay>:<team id>
    "country": frozenset({0}),  # ask which country, to show its emergency numbers
}


def decode(data: str | None) -> Action | None:
    """Return the action ``data`` encodes, or None for anything malformed."""
    if not data or len(data.encode()) > MAX_ACTION_BYTES:
        return None
    verb, *args = data.split(":")
    allowed = VERBS.get(verb)
    if allowed is None or len(args) not in allowed:
        return None
    if not all(_SAFE_ARG.match(arg) for arg in args):
        return None
    return Action(verb, tuple(args))
