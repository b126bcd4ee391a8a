"""/settings and /timezone."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Action, Button, Keyboard, Reply
from bot.scheduling import DateOrder, common_timezones, is_valid_timezone, parse_scan_date, resolve_timezone
from bot.scheduling.dates import ParsedScanDate
from bot.service._base import ServiceBase
from bot.service._types import Response, Sender
from bot.storage import repositories as repo
from bot.storage.records import UserRecord

logger = logging.getLogger(__name__)

PROFILES = ("woman_ai", "man_trt", "caregiver", "other")
MEDICINES = ("anastrozole", "letrozole", "exemestane", "none")
DEPTHS = ("F", "I", "A")
DATE_ORDERS = ("DMY", "MDY")
LEAD_PRESETS = ("7-1", "14-7-1", "30-7-1", "3-1", "1")
SECTIONS = ("profile", "medicine", "depth", "order", "reminders", "updates", "lead", "twohours")


class SettingsFlows(ServiceBase):
    """Profile, answer depth, date order, reminder preferences and time zone."""

    def settings_reply(self, user: UserRecord, edit_note: str | None = None) -> Reply:
        """Return the settings overview with a button per section."""
        rows: Keyboard = (
            (
                self.button("settings_profile", "set", "profile"),
                self.button("settings_medicine", "set", "medicine"),
            ),
            (self.button("settings_depth", "set", "depth"), self.button("settings_order", "set", "order")),
            (
                self.button("settings_reminders", "set", "reminders"),
                self.button("settings_lead", "set", "lead"),
            ),
            (
                self.button("settings_updates", "set", "updates"),
                self.button("settings_timezone", "set", "tz"),
            ),
        )
        return self.ui(
            "settings",
            rows,
            kind="menu",
            user=user,
            timezone=self.zone(user),
            timezone_chosen=user.timezone is not None,
            lead_days=list(user.lead_days_list),
            note=edit_note,
        )

    def _choices(self, section: str, values: tuple[str, ...], current: str) -> Keyboard:
        rows = tuple((self.button_with_check(section, value, current),) for value in values)
        return (*rows, (self.button("back", "set", "menu"),))

    def button_with_check(self, section: str, value: str, current: str) -> Button:
        label = self.label(f"{section}_{value}")
        button = self.button(f"{section}_{value}", "set", section, value)
        return Button(("✓ " if value == current else "") + label, button.action)

    def _current(self, user: UserRecord, section: str) -> str:
        return {
            "profile": user.profile,
            "medicine": user.medicine or "none",
            "depth": user.depth_pref,
            "order": user.date_order,
            "reminders": "on" if user.reminders_enabled else "off",
            "updates": "on" if user.updates_enabled else "off",
            "lead": "-".join(str(d) for d in user.lead_days_list),
            "twohours": "on" if user.two_hours_before else "off",
        }[section]

    def _values(self, section: str) -> tuple[str, ...]:
        return {
            "profile": PROFILES,
            "medicine": MEDICINES,
            "depth": DEPTHS,
            "order": DATE_ORDERS,
            "reminders": ("on", "off"),
            "updates": ("on", "off"),
            "lead": LEAD_PRESETS,
            "twohours": ("on", "off"),
        }[section]

    async def settings_action(
        self, session: AsyncSession, sender: Sender, user: UserRecord, verb: str, args: tuple[str, ...]
    ) -> Response | None:
        """Handle the settings and time-zone buttons."""
        if verb == "tz":
            return await self._set_timezone(session, sender, user, args[0])
        if verb == "tzskip":
            return await self._after_timezone(session, sender, user, skipped=True)
        asked = await self.needs_consent(session, user, "settings", "settings")
        if asked:
            return asked
        section = args[0]
        if section == "menu":
            return Response.of(self.settings_reply(user), edit=True)
        if section == "tz":
            return await self.timezone_in(session, sender, user, None)
        if section not in SECTIONS:
            return None
        if len(args) == 1:
            current = self._current(user, section)
            extra: tuple[tuple[Button, ...], ...] = ()
            if section == "lead":
                extra = (
                    (
                        self.button_with_check(
                            "twohours", "on" if not user.two_hours_before else "off", "none"
                        ),
                    ),
                )
            return Response.of(
                self.ui(
                    f"settings_{section}",
                    self._choices(section, self._values(section), current) + extra,
                    kind="menu",
                    user=user,
                ),
                edit=True,
            )
        value = args[1]
        if value not in self._values(section):
            return None
        changes: dict[str, dict[str, Any]] = {
            "profile": {"profile": value},
            "medicine": {"medicine": None if value == "none" else value},
            "depth": {"depth_pref": value},
            "order": {"date_order": value, "date_order_chosen": True},
            "reminders": {"reminders_enabled": value == "on"},
            "updates": {"updates_enabled": value == "on"},
            "lead": {"lead_days": value.replace("-", ",")},
            "twohours": {"two_hours_before": value == "on"},
        }
        updated = await repo.update_user(session, user.id, **changes[section]) or user
        if section in {"lead", "twohours"}:
            await self.reschedule(session, updated)
        logger.info("changed setting %s", section)
        return Response(
            (self.settings_reply(updated),), toast=self.domain.renderer.ui("settings_saved"), edit=True
        )

    # -- time zone -------------------------------------------------------------------------------

    def timezone_buttons(self, zones: list[tuple[str, str]] | None = None, skip: bool = False) -> Keyboard:
        choices = zones if zones is not None else common_timezones()
        rows = [
            tuple(Button(label, Action("tz", (zone,))) for label, zone in choices[i : i + 2])
            for i in range(0, len(choices), 2)
        ]
        if skip:
            rows.append((self.button("timezone_skip", "tzskip", zone=self.settings.default_timezone),))
        return tuple(rows)

    async def timezone_in(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: str | None, *, skip: bool = False
    ) -> Response:
        """Set the zone from ``text``, or ask for it with one-tap choices."""
        if text and text.strip():
            return await self._resolve(session, sender, user, text, skip=skip)
        if not skip:
            await repo.set_dialog(session, user.id, "timezone", "await_zone", {}, now=self.clock())
        return self.say("timezone_ask", self.timezone_buttons(skip=skip), current=user.timezone)

    async def timezone_step(
        self, session: AsyncSession, sender: Sender, user: UserRecord, data: dict[str, Any], text: str
    ) -> Response | None:
        return await self.zone_or_else(session, sender, user, text, skip=False)

    async def zone_or_else(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: str, *, skip: bool
    ) -> Response | None:
        """Take a place typed at the time-zone step; act on a date and let a question be answered (None)."""
        if resolve_timezone(text[:100]) or not text.strip():
            return await self._resolve(session, sender, user, text, skip=skip)
        # Either order will do here: the date is read for real once the zone, and so its custom, is known.
        orders: tuple[DateOrder, ...] = ("DMY", "MDY")
        readings = [parse_scan_date(text[:200], today=self.today(user), date_order=order) for order in orders]
        if any(isinstance(reading, ParsedScanDate) for reading in readings):
            # The date waits in the scan flow until the zone is known, then is read in the zone's order.
            await repo.set_dialog(
                session, user.id, "scan", "await_timezone", {"text": text[:200]}, now=self.clock()
            )
            return self.say("timezone_date_first", self.timezone_buttons(skip=True))
        asked = self.domain.matcher.match(text[:1000])
        if asked.intent is not None or asked.not_covered is not None or "?" in text:
            return None  # a question: answered as usual, and the time-zone step stays open
        return await self._resolve(session, sender, user, text, skip=skip)

    async def _resolve(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: str, *, skip: bool = False
    ) -> Response:
        common = {label.lower(): zone for label, zone in common_timezones()}
        picked = common.get(" ".join(text.lower().split()))
        zones = [picked] if picked else resolve_timezone(text[:100])
        if len(zones) == 1:
            return await self._set_timezone(session, sender, user, zones[0])
        if zones:
            choices = [(zone.replace("_", " "), zone) for zone in zones]
            return self.say("timezone_choose", self.timezone_buttons(choices, skip=skip))
        return self.say("timezone_unknown", self.timezone_buttons(skip=skip))

    async def _set_timezone(
        self, session: AsyncSession, sender: Sender, user: UserRecord, zone: str
    ) -> Response:
        if not is_valid_timezone(zone):
            return self.expired()
        updated = await repo.update_user(session, user.id, timezone=zone) or user
        moved = await self.reschedule(session, updated)
        logger.info("changed time zone")
        return await self._after_timezone(session, sender, updated, moved=moved)

    async def _after_timezone(
        self,
        session: AsyncSession,
        sender: Sender,
        user: UserRecord,
        *,
        skipped: bool = False,
        moved: int = 0,
    ) -> Response:
        dialog = await repo.get_dialog(session, user.id)
        confirm = self.ui("timezone_set", zone=self.zone(user), skipped=skipped, moved=moved)
        if dialog is not None and dialog.flow == "scan" and dialog.step == "await_timezone":
            # The scan flow asked for the zone first: carry on with the date the user already gave, if any.
            await repo.clear_dialog(session, user.id)
            following = await self.scan_flow(session, sender, user, dialog.data.get("text"), zone_asked=True)
            return Response((confirm, *following.replies))
        if dialog is not None and dialog.flow == "timezone":
            await repo.clear_dialog(session, user.id)
        return Response.of(confirm)
