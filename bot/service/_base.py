"""Shared plumbing for the patient service: users, context, consent and small reply helpers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import EmergencyDirectory
from bot.conversation import Action, Button, Conversation, Keyboard, Reply, UserContext
from bot.domain import Domain
from bot.scheduling import format_date
from bot.scheduling.dates import MONTH_FIRST_COUNTRIES
from bot.scheduling.timezones import country_for_timezone
from bot.service._memory import ConversationMemory
from bot.service._safety import SafetyDesk
from bot.service._types import Response, Sender
from bot.settings import Settings
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.records import ScanRecord, UserRecord

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
DIALOG_TTL = dt.timedelta(days=2)  # a guided flow left this long is forgotten, not resumed


def utcnow() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


class ServiceBase:
    """State and helpers every part of the patient service uses."""

    def __init__(
        self,
        domain: Domain,
        database: Database,
        settings: Settings,
        directory: EmergencyDirectory,
        clock: Clock = utcnow,
    ) -> None:
        self.domain = domain
        self.db = database
        self.settings = settings
        self.directory = directory
        self.clock = clock
        # Composed, not mixed in: the safety desk has its own dependencies and no flows.
        self.safety = SafetyDesk(
            domain.matcher.safety_detector, domain.conversation, directory, settings, clock
        )
        self.memory = ConversationMemory()  # introductions from people who chose not to be stored

    @property
    def conversation(self) -> Conversation:
        return self.domain.conversation

    # -- rendering -------------------------------------------------------------------------------

    def ui(self, name: str, buttons: Keyboard = (), kind: str = "notice", **variables: Any) -> Reply:
        """Return an interface message from ``answers/ui``."""
        return Reply(self.domain.renderer.ui(name, **variables), buttons, kind=kind)

    def label(self, key: str, **variables: Any) -> str:
        return self.domain.renderer.label(key, **variables)

    def button(self, key: str, verb: str, *args: str, **variables: Any) -> Button:
        return Button(self.label(key, **variables), Action(verb, tuple(args)))

    def say(self, name: str, buttons: Keyboard = (), **variables: Any) -> Response:
        return Response.of(self.ui(name, buttons, **variables))

    # -- users -----------------------------------------------------------------------------------

    async def visit(self, session: AsyncSession, sender: Sender) -> tuple[UserRecord, bool]:
        """Return the user (created on first contact) and whether they had blocked the bot until now."""
        # Reminders go to the private chat, whose id Telegram makes equal to the user id: a message the
        # patient writes in a group must never redirect them there.
        chat_id = sender.chat_id if sender.private else sender.user_id
        return await repo.record_visit(session, sender.user_id, chat_id, self.clock())

    def zone(self, user: UserRecord) -> str:
        return user.timezone or self.settings.default_timezone

    def date_order(self, user: UserRecord) -> str:
        """Return the order numeric dates are read in: the patient's choice, else their time zone's custom."""
        if user.date_order_chosen:
            return user.date_order
        country = country_for_timezone(self.zone(user))
        return "MDY" if country in MONTH_FIRST_COUNTRIES else user.date_order

    def today(self, user: UserRecord) -> dt.date:
        from zoneinfo import ZoneInfo

        return self.clock().astimezone(ZoneInfo(self.zone(user))).date()

    async def context(self, session: AsyncSession, user: UserRecord, sender: Sender) -> UserContext:
        scan = await repo.get_upcoming_scan(session, user.id)
        profile, medicine = user.profile, user.medicine
        remembered = None if user.consent else self.memory.recall(user.id, self.clock())
        if remembered is not None:
            profile, medicine = remembered.profile, remembered.medicine
        return UserContext(
            profile=profile,
            medicine=medicine,
            depth_pref=user.depth_pref,
            scan_date=format_date(scan.scan_date) if scan else None,
            contacts=self.safety.contacts(user, sender),
            private_chat=sender.private,
            # Follow-ups refer to the last answer in the private chat, which is where it is kept.
            last_intent=user.last_intent if sender.private else None,
            last_level=user.last_level if sender.private else None,
            consent=user.consent,
        )

    # -- consent and groups ----------------------------------------------------------------------

    def consent_buttons(self) -> Keyboard:
        return (
            (self.button("consent_yes", "consent", "yes"),),
            (self.button("consent_no", "consent", "no"),),
        )

    async def needs_consent(
        self, session: AsyncSession, user: UserRecord, feature: str, then: str, argument: str | None = None
    ) -> Response | None:
        """Return the consent question if the user has not agreed to storage yet, remembering what to resume."""
        if user.consent:
            return None
        data: dict[str, Any] = {"then": then}
        if argument:
            data["argument"] = argument[:4000]
        await repo.set_dialog(session, user.id, "consent", "await", data, now=self.clock())
        return self.say("consent_needed", self.consent_buttons(), feature=self.label(f"feature_{feature}"))

    def group_refusal(self) -> Response:
        return self.say("group_notice")

    # -- provided by the flow mixins (declared here so each mixin can call the others) -------------

    def expired(self) -> Response:
        raise NotImplementedError

    def describe_scan(self, scan: ScanRecord) -> str:
        raise NotImplementedError

    def timezone_buttons(self, zones: list[tuple[str, str]] | None = None, skip: bool = False) -> Keyboard:
        raise NotImplementedError

    async def timezone_in(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: str | None, *, skip: bool = False
    ) -> Response:
        raise NotImplementedError

    async def zone_or_else(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: str, *, skip: bool
    ) -> Response | None:
        raise NotImplementedError

    async def scan_flow(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: Any, *, zone_asked: bool = False
    ) -> Response:
        raise NotImplementedError

    async def reschedule(self, session: AsyncSession, user: UserRecord) -> int:
        raise NotImplementedError
