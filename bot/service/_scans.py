"""Setting a DEXA scan, listing and answering its reminders, and planning the next one."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Button, Keyboard, Reply
from bot.scheduling import (
    DateOrder,
    DateProblem,
    format_date,
    format_time,
    next_scan_suggestions,
    parse_scan_date,
    plan_scan_reminders,
    scan_calendar_file,
    snooze_until,
)
from bot.scheduling.dates import MAX_YEARS_AHEAD, ParsedScanDate, add_years
from bot.service._base import ServiceBase
from bot.service._types import Document, Response, Sender
from bot.storage import repositories as repo
from bot.storage.records import ReminderRecord, ScanRecord, UserRecord

logger = logging.getLogger(__name__)

RESCHEDULED_KINDS = ("lead", "two_hours", "followup")


class ScanFlows(ServiceBase):
    """/scan, /reminders and the buttons on reminder messages."""

    # -- describing ------------------------------------------------------------------------------

    def describe_scan(self, scan: ScanRecord) -> str:
        text = format_date(scan.scan_date)
        return f"{text} at {format_time(scan.scan_time)}" if scan.scan_time else text

    def describe_moment(self, moment: dt.datetime, zone: str) -> str:
        local = moment.astimezone(ZoneInfo(zone))
        return f"{format_date(local.date())} at {format_time(local.time())}"

    def _reminder_lines(self, reminders: list[ReminderRecord], zone: str) -> list[dict[str, Any]]:
        return [
            {"kind": r.kind, "lead_days": r.lead_days, "when": self.describe_moment(r.due_at, zone)}
            for r in reminders
        ]

    # -- the flow --------------------------------------------------------------------------------

    async def scan_flow(
        self, session: AsyncSession, sender: Sender, user: UserRecord, text: Any, *, zone_asked: bool = False
    ) -> Response:
        """Ask for the time zone (first time only), then the date; or take the date given inline."""
        date_text = text if isinstance(text, str) and text.strip() else None
        if user.timezone is None and not zone_asked:
            await repo.set_dialog(
                session,
                user.id,
                "scan",
                "await_timezone",
                {"text": date_text} if date_text else {},
                now=self.clock(),
            )
            return self.say(
                "scan_ask_timezone",
                self.timezone_buttons(skip=True),
                default_zone=self.settings.default_timezone,
            )
        if date_text is None:
            await repo.set_dialog(session, user.id, "scan", "await_date", {}, now=self.clock())
            return self.say(
                "scan_ask_date", ((self.button("cancel", "flowcancel"),),), date_order=self.date_order(user)
            )
        return await self._scan_date_text(session, user, date_text)

    async def scan_step(
        self,
        session: AsyncSession,
        sender: Sender,
        user: UserRecord,
        step: str,
        data: dict[str, Any],
        text: str,
    ) -> Response | None:
        if step == "await_timezone":
            return await self.zone_or_else(session, sender, user, text, skip=True)
        if step == "await_date":
            return await self._scan_date_text(session, user, text)
        return None

    async def _scan_date_text(self, session: AsyncSession, user: UserRecord, text: str) -> Response:
        today = self.today(user)
        order: DateOrder = "MDY" if self.date_order(user) == "MDY" else "DMY"
        result = parse_scan_date(text[:200], today=today, date_order=order)
        if not user.date_order_chosen and isinstance(result, ParsedScanDate):
            other_order: DateOrder = "DMY" if order == "MDY" else "MDY"
            other = parse_scan_date(text[:200], today=today, date_order=other_order)
            if isinstance(other, ParsedScanDate) and other.date != result.date:
                # "3/4/2027" from someone who never chose an order: ask, one tap, rather than guess.
                await repo.set_dialog(session, user.id, "scan", "await_date", {}, now=self.clock())
                choices = self._date_choices((result, order), (other, other_order))
                return self.say("scan_date_which", choices)
        if isinstance(result, ParsedScanDate):
            return await self.save_scan(session, user, result.date, result.time)
        if isinstance(result, DateProblem):
            # Keep the flow open: the user gets a second chance with the same question.
            await repo.set_dialog(session, user.id, "scan", "await_date", {}, now=self.clock())
            buttons: Keyboard = ((self.button("cancel", "flowcancel"),),)
            if result.kind == "order" and result.alternative is not None:
                buttons = (
                    (
                        self.button(
                            "use_date",
                            "scandate",
                            result.alternative.isoformat(),
                            date=format_date(result.alternative),
                        ),
                    ),
                    *buttons,
                )
            return self.say(
                "scan_date_problem",
                buttons,
                problem=result.kind,
                date=format_date(result.alternative) if result.alternative else None,
                today=format_date(today),
                latest=format_date(add_years(today, MAX_YEARS_AHEAD)),
                date_order=self.date_order(user),
            )
        return await self.save_scan(session, user, result.date, result.time)

    def _date_choices(self, *readings: tuple[ParsedScanDate, DateOrder]) -> Keyboard:
        rows: list[tuple[Button, ...]] = []
        for reading, order in readings:
            time = f"{reading.time.hour:02d}{reading.time.minute:02d}" if reading.time is not None else "-"
            args = [reading.date.isoformat(), time, order]
            rows.append((self.button("pick_date", "scandate", *args, date=format_date(reading.date)),))
        rows.append((self.button("cancel", "flowcancel"),))
        return tuple(rows)

    async def save_scan(
        self, session: AsyncSession, user: UserRecord, scan_date: dt.date, scan_time: dt.time | None
    ) -> Response:
        """Store the scan with its reminders and confirm it unambiguously."""
        zone = self.zone(user)
        planned = self._plan(user, scan_date, scan_time, zone)
        scan = await repo.create_scan(session, user.id, scan_date, scan_time, zone, planned, now=self.clock())
        await repo.clear_dialog(session, user.id)
        reminders = await repo.list_reminders(session, user.id, ("pending",))
        logger.info("saved a scan with %d reminders", len(reminders))
        return Response.of(self._scan_saved(user, scan, reminders))

    def _plan(
        self, user: UserRecord, scan_date: dt.date, scan_time: dt.time | None, zone: str
    ) -> list[tuple[str, int | None, dt.datetime]]:
        """Plan a scan's reminders with the user's lead times, as rows for the repositories."""
        planned = plan_scan_reminders(
            scan_date=scan_date,
            scan_time=scan_time,
            timezone=zone,
            lead_days=user.lead_days_list,
            two_hours_before=user.two_hours_before,
            now=self.clock(),
        )
        return [(p.kind, p.lead_days, p.due_at) for p in planned]

    def _scan_reply(
        self,
        template: str,
        user: UserRecord,
        scan: ScanRecord,
        reminders: list[ReminderRecord],
        buttons: Keyboard,
    ) -> Reply:
        return self.ui(
            template,
            buttons,
            scan=self.describe_scan(scan),
            zone=scan.timezone,
            reminders=self._reminder_lines(reminders, scan.timezone),
            reminders_enabled=user.reminders_enabled,
            paused=user.paused,
        )

    def _scan_saved(self, user: UserRecord, scan: ScanRecord, reminders: list[ReminderRecord]) -> Reply:
        buttons: Keyboard = (
            (self.button("add_to_calendar", "ics", str(scan.id)),),
            (self.button("change_date", "scan"), self.button("cancel_scan", "scancancel", str(scan.id))),
        )
        return self._scan_reply("scan_saved", user, scan, reminders, buttons)

    async def reschedule(self, session: AsyncSession, user: UserRecord) -> int:
        """Re-plan the upcoming scan's reminders after a change of time zone or lead times."""
        scan = await repo.get_upcoming_scan(session, user.id)
        if scan is None:
            return 0
        zone = self.zone(user)
        done = {
            (r.kind, r.lead_days)
            for r in await repo.list_reminders(session, user.id, ("claimed", "sent", "missed"))
            if r.scan_id == scan.id
        }
        # A reminder that already went out (or is going out) is not planned again at its new moment.
        planned = [
            row for row in self._plan(user, scan.scan_date, scan.scan_time, zone) if row[:2] not in done
        ]
        if zone != scan.timezone:
            await repo.set_scan_timezone(session, scan.id, zone)
        replaced = await repo.replace_pending_reminders(session, scan.id, planned, kinds=RESCHEDULED_KINDS)
        return len(replaced)

    # -- listing ---------------------------------------------------------------------------------

    async def reminders_in(self, session: AsyncSession, user: UserRecord) -> Response:
        scan = await repo.get_upcoming_scan(session, user.id)
        if scan is None:
            return self.say("reminders_none", ((self.button("set_scan", "scan"),),))
        reminders = [
            r for r in await repo.list_reminders(session, user.id, ("pending",)) if r.scan_id == scan.id
        ]
        buttons: Keyboard = (
            (self.button("change_date", "scan"), self.button("cancel_scan", "scancancel", str(scan.id))),
            (self.button("add_to_calendar", "ics", str(scan.id)),),
            (self.button("settings_lead", "set", "lead"),),
        )
        return Response.of(self._scan_reply("reminders_list", user, scan, reminders, buttons))

    # -- buttons ---------------------------------------------------------------------------------

    async def scan_action(
        self, session: AsyncSession, sender: Sender, user: UserRecord, verb: str, args: tuple[str, ...]
    ) -> Response | None:
        """Handle the scan, calendar, reminder and next-scan buttons."""
        if verb == "scan":
            asked = await self.needs_consent(session, user, "scan", "scan")
            return asked or await self.scan_flow(session, sender, user, None)
        if verb == "scandate":
            return await self._confirmed_date(session, user, args)
        if verb == "next":
            return (
                await self._next_scan(session, sender, user, int(args[0]), args[1])
                if args[0].isdigit()
                else None
            )
        if not args[-1].isdigit():
            return None
        if verb == "scancancel":
            if not await repo.cancel_scan(session, user.id, int(args[0])):
                return None
            await repo.clear_dialog(session, user.id)
            return Response((self.ui("scan_cancelled"),), clear_buttons=True)
        if verb == "ics":
            scan = await repo.get_scan(session, user.id, int(args[0]))
            if scan is None:
                return None
            content = scan_calendar_file(
                scan_date=scan.scan_date,
                scan_time=scan.scan_time,
                timezone=scan.timezone,
                uid=f"bonebot-scan-{scan.id}-{user.id}@bonebot",
            )
            caption = self.domain.renderer.ui("calendar_caption", scan=self.describe_scan(scan))
            return Response(document=Document("dexa-scan.ics", content, caption, "text/calendar"))
        if verb == "rem":
            return await self._reminder_button(session, sender, user, args[0], int(args[1]))
        return None

    async def _confirmed_date(
        self, session: AsyncSession, user: UserRecord, args: tuple[str, ...]
    ) -> Response | None:
        try:
            scan_date = dt.date.fromisoformat(args[0])
            timed = len(args) > 1 and args[1] != "-"
            scan_time = dt.time(int(args[1][:2]), int(args[1][2:])) if timed else None
        except ValueError:
            return None
        if len(args) > 2:
            if args[2] not in ("DMY", "MDY"):
                return None
            # Tapping one reading of an ambiguous date is choosing that order, until /settings changes it.
            user = (
                await repo.update_user(session, user.id, date_order=args[2], date_order_chosen=True) or user
            )
        today = self.today(user)
        if not today <= scan_date <= add_years(today, MAX_YEARS_AHEAD):
            return None
        return await self.save_scan(session, user, scan_date, scan_time)

    async def _reminder_button(
        self, session: AsyncSession, sender: Sender, user: UserRecord, verb: str, reminder_id: int
    ) -> Response | None:
        reminders = await repo.list_reminders(session, user.id, None)
        reminder = next((r for r in reminders if r.id == reminder_id), None)
        if reminder is None:
            return None
        scan = await repo.get_scan(session, user.id, reminder.scan_id)
        if scan is None or scan.status != "upcoming":
            return None
        if verb == "ack":
            return Response(toast=self.domain.renderer.ui("reminder_ack"), clear_buttons=True)
        if verb in {"snz3h", "snztm"}:
            due = snooze_until(
                "3h" if verb == "snz3h" else "tomorrow", now=self.clock(), timezone=scan.timezone
            )
            await repo.add_reminder(session, scan.id, "snooze", due)
            return Response(
                (self.ui("reminder_snoozed", until=self.describe_moment(due, scan.timezone)),),
                clear_buttons=True,
            )
        if verb == "change":
            return await self.scan_flow(session, sender, user, None)
        if verb == "cancel":
            await repo.cancel_scan(session, user.id, scan.id)
            return Response((self.ui("scan_cancelled"),), clear_buttons=True)
        return None

    async def _next_scan(
        self, session: AsyncSession, sender: Sender, user: UserRecord, scan_id: int, choice: str
    ) -> Response | None:
        scan = await repo.get_scan(session, user.id, scan_id)
        if scan is None or scan.status != "upcoming":
            return None
        await repo.mark_scan_done(session, user.id, scan.id)
        if choice == "pick":
            flow = await self.scan_flow(session, sender, user, None)
            return Response(flow.replies, clear_buttons=True)
        suggestions = next_scan_suggestions(scan.scan_date)
        label = {"1y": "in 1 year", "2y": "in 2 years"}.get(choice)
        if label is None:
            return None
        saved = await self.save_scan(session, user, suggestions[label], None)
        return Response(saved.replies, clear_buttons=True)
