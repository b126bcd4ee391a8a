"""The care-team service: teams, staff, join links, patients' memberships, broadcasts and /stats.

Composition, not another mixin: it holds the same context object (a ``ServiceBase``: content, database,
settings, clock) the patient service is built on. Every staff command and button looks the caller's
membership up in the database on every call, so a button from an old message or a forged one does
nothing for someone who is not (or no longer) on the team's staff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import SAFETY_INTENTS
from bot.conversation import Action, Button, Keyboard, Reply, decode
from bot.dispatch import broadcast_html
from bot.service._base import DIALOG_TTL, ServiceBase
from bot.service._charts import stats_chart
from bot.service._qr import qr_png
from bot.service._types import Document, Response, Sender
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.models import AUDIENCES
from bot.storage.records import BroadcastRecord, CodeStatus, TeamRecord, UserRecord
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams
from bot.telegram_html import TelegramHTMLError, parse

logger = logging.getLogger(__name__)

INVITE_VALID_FOR = dt.timedelta(hours=24)
JOIN_FAILURES_PER_HOUR = 5
UNANSWERED_WINDOW = dt.timedelta(days=90)
MIN_ASKERS = 3
STAFF_FLOWS = ("bcast", "contact")
CONTACT_FIELDS = {
    "phone": ("contact_phone", "phone number", "020 7946 0000"),
    "email": ("contact_email", "e-mail address", "bonecare@example.org"),
    "hours": ("contact_hours", "opening hours", "Mon-Fri 9:00-17:00"),
}
_CANCEL = re.compile(r"^\s*(cancel|stop|never ?mind|nevermind|quit|exit)\s*[.!]*\s*$", re.I)
_ID = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True)
class TeamResponse:
    """A response, plus what only a Telegram front end can do: photos, and a broadcast's progress message.

    ``progress`` is the message to send and then attach to broadcast ``progress_for`` (see
    :meth:`StaffService.attach_progress`), so the dispatcher can keep it up to date.
    """

    response: Response
    photos: tuple[Document, ...] = ()
    progress: Reply | None = None
    progress_for: int | None = None

    @classmethod
    def of(cls, *replies: Reply, edit: bool = False) -> TeamResponse:
        return cls(Response.of(*replies, edit=edit))


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class StaffService:
    """Care teams for staff (/newteam, /team, /broadcast, /stats, /cancel) and patients (/teams, joining)."""

    def __init__(self, context: ServiceBase) -> None:
        self.context = context
        self.bot_username = "BoneBot"  # the front end sets the real one once it knows it

    # -- shorthands on the shared context ---------------------------------------------------------

    @property
    def db(self) -> Database:
        return self.context.db

    def now(self) -> dt.datetime:
        return self.context.clock()

    def ui(self, name: str, buttons: Keyboard = (), **variables: Any) -> Reply:
        return self.context.ui(name, buttons, **variables)

    def say(self, name: str, buttons: Keyboard = (), **variables: Any) -> TeamResponse:
        return TeamResponse(self.context.say(name, buttons, **variables))

    def button(self, key: str, verb: str, *args: str, **variables: Any) -> Button:
        return self.context.button(key, verb, *args, **variables)

    def link(self, code: str) -> str:
        return f"https://t.me/{self.bot_username}?start={code}"

    def expired(self) -> TeamResponse:
        return TeamResponse(self.context.expired())

    def refused(self) -> TeamResponse:
        """Say politely that this is for the team's staff; used for commands and buttons alike."""
        return self.say("team_not_staff", team=None)

    def refused_button(self) -> TeamResponse:
        return TeamResponse(Response(toast=self.context.domain.renderer.ui("team_not_staff", team=None)))

    async def _staff_team(self, session: AsyncSession, user_id: int, team_id: int) -> TeamRecord | None:
        """Return the team if the user is on its staff right now (checked in the database), else None."""
        if await teams.get_staff(session, team_id, user_id) is None:
            return None
        return await teams.get_team(session, team_id)

    def _today(self) -> dt.date:
        return self.now().date()

    # -- /newteam ---------------------------------------------------------------------------------

    async def newteam(self, sender: Sender, name: str | None) -> TeamResponse:
        """Create a care team (operators only); the creator becomes its first staff member."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        if sender.user_id not in self.context.settings.admin_ids:
            logger.info("refused /newteam from a non-admin")
            return self.say("team_admin_only")
        name = " ".join((name or "").split())
        if not name or len(name) > teams.MAX_TEAM_NAME:
            return self.say("team_name_needed", limit=teams.MAX_TEAM_NAME)
        async with self.db.session() as session:
            user, _ = await self.context.visit(session, sender)
            team = await teams.create_team(session, name, user.id, self.now())
        logger.info("created care team id=%d", team.id)
        return self.say("team_created", team=team.name)

    # -- /team ------------------------------------------------------------------------------------

    def _pick(self, choices: list[TeamRecord], command: str) -> TeamResponse:
        rows = tuple(
            (Button(_short(t.name, 30), Action("tm", ("pick", str(t.id), command))),) for t in choices
        )
        return self.say("team_pick", rows)

    async def _my_teams(self, sender: Sender) -> list[TeamRecord]:
        async with self.db.session() as session:
            return await teams.list_staff_teams(session, sender.user_id)

    async def team(self, sender: Sender) -> TeamResponse:
        """Show the caller's team (or ask which one) with its join link and QR code."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        mine = await self._my_teams(sender)
        if not mine:
            return self.refused()
        if len(mine) > 1:
            return self._pick(mine, "team")
        return await self._team_card(sender, mine[0].id)

    async def _team_card(self, sender: Sender, team_id: int, *, edit: bool = False) -> TeamResponse:
        async with self.db.session() as session:
            team = await self._staff_team(session, sender.user_id, team_id)
            if team is None:
                return self.refused_button() if edit else self.refused()
            code = await teams.current_join_code(session, team.id)
            staff = await teams.list_staff(session, team.id)
            patients = await teams.count_patients(session, team.id)
        link = self.link(code) if code else None
        members = [
            {
                "you": member.user_id == sender.user_id,
                "role": member.role,
                "since": member.joined_at.date().isoformat(),
            }
            for member in staff
        ]
        tid = str(team.id)
        buttons: Keyboard = (
            (self.button("team_invite", "tm", "invite", tid),),
            (
                self.button("team_rotate", "tm", "rotate", tid),
                self.button("team_contact", "tm", "contact", tid),
            ),
            (self.button("team_leave", "tm", "leave", tid),),
        )
        card = self.ui(
            "team_card",
            buttons,
            team=team.name,
            patients=patients,
            staff=members,
            link=link,
            **self._contact_vars(team),
        )
        photos: tuple[Document, ...] = ()
        if link:
            png = await asyncio.to_thread(qr_png, link)
            caption = self.context.domain.renderer.ui("team_qr_caption", team=team.name)
            photos = (Document(f"join-{team.id}.png", png, caption, "image/png"),)
        return TeamResponse(Response.of(card, edit=edit), photos)

    @staticmethod
    def _contact_vars(team: TeamRecord) -> dict[str, Any]:
        return {
            "contact_phone": team.contact_phone,
            "contact_email": team.contact_email,
            "contact_hours": team.contact_hours,
        }

    # -- /teams and joining (patients) --------------------------------------------------------------

    async def my_patient_teams(self, sender: Sender) -> TeamResponse:
        """List the patient's teams, what each can see, and a button to leave each."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        async with self.db.session() as session:
            await self.context.visit(session, sender)
            mine = await teams.list_patient_teams(session, sender.user_id)
        if not mine:
            return self.say("teams_none")
        rows = tuple(
            (self.button("leave_team", "pt", "leave", str(t.id), team=_short(t.name)),) for t in mine
        )
        return self.say("teams_list", rows, teams=mine)

    async def start_with_code(self, sender: Sender, code: str) -> TeamResponse:
        """Handle ``/start <code>``: a patient join code or a staff invite, rate limited per user."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        async with self.db.session() as session:
            user, _ = await self.context.visit(session, sender)
            prefix: list[Reply] = []
            if user.paused:
                # /start always resumes what /stop paused, with a code too.
                await repo.update_user(session, user.id, paused=False)
                prefix.append(self.ui("resumed"))
            now = self.now()
            if (
                await teams.count_join_failures(session, user.id, now - dt.timedelta(hours=1))
                >= JOIN_FAILURES_PER_HOUR
            ):
                logger.info("join code refused: too many failed codes")
                return TeamResponse(Response((*prefix, self.ui("join_rate_limited"))))
            reply = await self._use_code(session, user, code.strip())
            return TeamResponse(Response((*prefix, reply)))

    async def _use_code(self, session: AsyncSession, user: UserRecord, code: str) -> Reply:
        now = self.now()
        lookup = await teams.lookup_code(session, code, now)
        team = lookup.team
        if lookup.status is CodeStatus.JOIN and team is not None:
            if await teams.is_patient(session, team.id, user.id):
                return self.ui("join_already", team=team.name)
            if not user.consent:
                buttons = (
                    (Button(self.context.label("join_yes"), Action("pt", ("join", code))),),
                    (Button(self.context.label("join_no"), Action("pt", ("nojoin", str(team.id)))),),
                )
                return self.ui("join_consent", buttons, team=team.name)
            return await self._join(session, user, team)
        if lookup.status is CodeStatus.INVITE and team is not None:
            if await teams.get_staff(session, team.id, user.id) is not None:
                return self.ui("staff_already", team=team.name)
            joined = await teams.use_staff_invite(session, code, user.id, now)
            if joined is not None:
                logger.info("a staff invite was used for team id=%d", joined.id)
                return self.ui("staff_joined", team=joined.name)
            lookup = await teams.lookup_code(session, code, now)
        await teams.record_join_failure(session, user.id, now)
        logger.info("start code not accepted: %s", lookup.status.value)
        if lookup.status is CodeStatus.ROTATED and lookup.team is not None:
            return self.ui("join_code_rotated", team=lookup.team.name)
        if lookup.status in (CodeStatus.EXPIRED, CodeStatus.USED):
            return self.ui("join_code_expired")
        return self.ui("join_code_unknown")

    async def _join(self, session: AsyncSession, user: UserRecord, team: TeamRecord) -> Reply:
        await teams.add_patient(session, team.id, user.id, self.now())
        logger.info("a patient joined team id=%d", team.id)
        return self.ui("join_done", team=team.name, has_contact=team.has_contact, **self._contact_vars(team))

    async def _join_button(self, sender: Sender, code: str) -> TeamResponse:
        """Join after the consent question; the code is checked again, as if typed."""
        async with self.db.session() as session:
            user, _ = await self.context.visit(session, sender)
            now = self.now()
            if (
                await teams.count_join_failures(session, user.id, now - dt.timedelta(hours=1))
                >= JOIN_FAILURES_PER_HOUR
            ):
                return TeamResponse(Response((self.ui("join_rate_limited"),), clear_buttons=True))
            lookup = await teams.lookup_code(session, code, now)
            if lookup.status is not CodeStatus.JOIN or lookup.team is None:
                reply = await self._use_code(session, user, code)
                return TeamResponse(Response((reply,), clear_buttons=True))
            if not user.consent:
                user = await repo.update_user(session, user.id, consent=True) or user
            if await teams.is_patient(session, lookup.team.id, user.id):
                reply = self.ui("join_already", team=lookup.team.name)
            else:
                reply = await self._join(session, user, lookup.team)
            return TeamResponse(Response((reply,), clear_buttons=True))

    # -- /cancel ----------------------------------------------------------------------------------

    async def cancel(self, sender: Sender) -> TeamResponse:
        """Leave the flow under way; for staff with broadcasts running, offer to cancel them."""
        async with self.db.session() as session:
            user, _ = await self.context.visit(session, sender)
            if sender.private and await repo.clear_dialog(session, user.id):
                return self.say("flow_cancelled")
            mine = await teams.list_staff_teams(session, user.id)
            running = await bc.running_broadcasts(session, [t.id for t in mine])
        if not running:
            return self.say("nothing_to_cancel")
        rows = tuple(
            (
                self.button(
                    "broadcast_stop_named",
                    "bc",
                    "stop",
                    str(b.id),
                    date=(b.started_at or b.created_at).strftime("%d %b %H:%M"),
                ),
            )
            for b in running
        )
        return self.say("broadcast_cancel_offer", rows, running=len(running))

    # -- /broadcast -------------------------------------------------------------------------------

    async def broadcast(self, sender: Sender, text: str | None) -> TeamResponse:
        """Start composing an update: pick the team, take the text (inline or next message)."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        mine = await self._my_teams(sender)
        if not mine:
            return self.refused()
        if len(mine) > 1:
            if text:
                async with self.db.session() as session:
                    await repo.set_dialog(
                        session, sender.user_id, "bcast", "pick", {"text": text}, now=self.now()
                    )
            return self._pick(mine, "bc")
        return await self._compose(sender, mine[0].id, text)

    async def _compose(self, sender: Sender, team_id: int, text: str | None) -> TeamResponse:
        async with self.db.session() as session:
            team = await self._staff_team(session, sender.user_id, team_id)
            if team is None:
                return self.refused()
            if not text:
                await repo.set_dialog(
                    session, sender.user_id, "bcast", "text", {"team": team.id}, now=self.now()
                )
                return self.say("broadcast_ask_text", team=team.name, limit=bc.MAX_BROADCAST_CHARS)
            if len(text) > bc.MAX_BROADCAST_CHARS:
                await repo.set_dialog(
                    session, sender.user_id, "bcast", "text", {"team": team.id}, now=self.now()
                )
                return self.say("broadcast_too_long", length=len(text), limit=bc.MAX_BROADCAST_CHARS)
            await repo.clear_dialog(session, sender.user_id)
            draft = await bc.create_draft(session, team.id, sender.user_id, text, self.now())
        return TeamResponse(Response.of(self._audience_question(team, draft)))

    def _audience_question(self, team: TeamRecord, draft: BroadcastRecord) -> Reply:
        bid = str(draft.id)
        rows = tuple((self.button(f"audience_{a}", "bc", "aud", bid, a),) for a in AUDIENCES)
        return self.ui(
            "broadcast_audience",
            (*rows, (self.button("broadcast_discard", "bc", "discard", bid),)),
            team=team.name,
        )

    def message_html(self, team_name: str, text: str, formatted: bool) -> str:
        """Return a broadcast exactly as patients see it: the staff text escaped unless they chose formatting."""
        return broadcast_html(self.context.domain.renderer, team_name, text, formatted)

    async def _preview(self, session: AsyncSession, team: TeamRecord, draft: BroadcastRecord) -> TeamResponse:
        assert draft.audience is not None
        count = await bc.count_audience(session, team.id, draft.audience, self._today())
        audience = self.context.label(f"audience_{draft.audience}")
        bid = str(draft.id)
        change = self.button("broadcast_audience_change", "bc", "change", bid)
        discard = self.button("broadcast_discard", "bc", "discard", bid)
        if count == 0:
            reply = self.ui(
                "broadcast_no_recipients", ((change,), (discard,)), audience=audience, team=team.name
            )
            return TeamResponse(Response.of(reply, edit=True))
        fmt = "broadcast_format_on" if draft.formatted else "broadcast_format_off"
        prev = "broadcast_preview_on" if draft.link_preview else "broadcast_preview_off"
        buttons: Keyboard = (
            (self.button("broadcast_send", "bc", "send", bid, count=count),),
            (self.button(fmt, "bc", "fmt", bid), self.button(prev, "bc", "prev", bid)),
            (change, discard),
        )
        header = self.ui(
            "broadcast_preview",
            audience=audience,
            count=count,
            paused=0,
            formatted=draft.formatted,
            link_preview=draft.link_preview,
        )
        # The preview is the message itself, sent the way patients will get it; the buttons go under it.
        body = Reply(self.message_html(team.name, draft.text, draft.formatted), buttons, kind="preview")
        return TeamResponse(Response((header, body), clear_buttons=True))

    async def _broadcast_action(self, sender: Sender, op: str, bid: int, arg: str | None) -> TeamResponse:
        async with self.db.session() as session:
            draft = await bc.get_broadcast(session, bid)
            if draft is None:
                return self.expired()
            team = await self._staff_team(session, sender.user_id, draft.team_id)
            if team is None:
                logger.info("refused a broadcast button from someone not on the team's staff")
                return self.refused_button()
            if op == "stop":
                return await self._stop(session, draft)
            if draft.status != "draft":
                return TeamResponse(Response((self.ui("broadcast_not_draft"),), clear_buttons=True))
            if op == "discard":
                await bc.cancel_broadcast(session, draft.id, self.now())
                return TeamResponse(Response.of(self.ui("broadcast_discarded"), edit=True))
            if op == "change":
                return TeamResponse(Response.of(self._audience_question(team, draft), edit=True))
            if op == "aud" and arg in AUDIENCES:
                draft = await bc.update_draft(session, draft.id, audience=arg) or draft
                return await self._preview(session, team, draft)
            if draft.audience is None:
                return self.expired()
            if op == "fmt":
                if not draft.formatted:
                    try:
                        parse(draft.text)
                    except TelegramHTMLError as exc:
                        return self.say("broadcast_bad_html", problem=str(exc)[:200])
                draft = await bc.update_draft(session, draft.id, formatted=not draft.formatted) or draft
                return await self._preview(session, team, draft)
            if op == "prev":
                draft = await bc.update_draft(session, draft.id, link_preview=not draft.link_preview) or draft
                return await self._preview(session, team, draft)
            if op == "send":
                if not await bc.start_broadcast(session, draft.id, self.now(), self._today()):
                    return TeamResponse(Response((self.ui("broadcast_not_draft"),), clear_buttons=True))
                logger.info("broadcast id=%d started for team id=%d", draft.id, team.id)
                total = await bc.count_audience(session, team.id, draft.audience or "all", self._today())
                progress = self.ui(
                    "broadcast_progress",
                    ((self.button("broadcast_stop", "bc", "stop", str(draft.id)),),),
                    total=total,
                    populated=False,
                    sent=0,
                    blocked=0,
                    failed=0,
                    skipped=0,
                    open=total,
                )
                return TeamResponse(Response(clear_buttons=True), progress=progress, progress_for=draft.id)
        return self.expired()

    async def _stop(self, session: AsyncSession, draft: BroadcastRecord) -> TeamResponse:
        if await bc.cancel_broadcast(session, draft.id, self.now()):
            logger.info("broadcast id=%d cancelled", draft.id)
            return TeamResponse(Response(toast=self.context.domain.renderer.ui("broadcast_cancelling")))
        return TeamResponse(Response(toast=self.context.domain.renderer.ui("broadcast_not_draft")))

    async def attach_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """Remember where the sender sees the broadcast's progress, so the dispatcher can update it."""
        async with self.db.session() as session:
            await bc.set_progress_message(session, broadcast_id, chat_id, message_id)

    # -- /stats -----------------------------------------------------------------------------------

    async def stats(self, sender: Sender) -> TeamResponse:
        """Show the team's counts and the repeated unanswered questions, with a bar chart."""
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        mine = await self._my_teams(sender)
        if not mine:
            return self.refused()
        if len(mine) > 1:
            return self._pick(mine, "stats")
        return await self._stats(sender, mine[0].id)

    async def _stats(self, sender: Sender, team_id: int) -> TeamResponse:
        now = self.now()
        month = now.strftime("%Y-%m")
        async with self.db.session() as session:
            team = await self._staff_team(session, sender.user_id, team_id)
            if team is None:
                return self.refused()
            counts = await teams.team_counts(session, team.id, now.date())
            topics = await teams.answers_by_topic(session, month)
            unanswered = await repo.repeated_unanswered(session, now - UNANSWERED_WINDOW, MIN_ASKERS)
        intents = self.context.domain.knowledge.intents
        named = [(intents[i].title if i in intents else i, n) for i, n in topics]
        reply = self.ui(
            "stats",
            team=team.name,
            counts=counts,
            month=now.strftime("%B %Y"),
            topics=named,
            unanswered=unanswered,
            min_askers=MIN_ASKERS,
        )
        png = await asyncio.to_thread(stats_chart, named, unanswered, f"{team.name}, {now:%B %Y}")
        caption = self.context.domain.renderer.ui("stats_chart_caption")
        return TeamResponse(
            Response.of(reply), (Document(f"stats-{team.id}.png", png, caption, "image/png"),)
        )

    # -- buttons ----------------------------------------------------------------------------------

    async def action(self, sender: Sender, data: str | None) -> TeamResponse:
        """Carry out a care-team button; forged, stale or unauthorised ones change nothing."""
        action = decode(data)
        if action is None or action.verb not in ("tm", "bc", "pt") or not action.args:
            return self.expired()
        if not sender.private:
            return TeamResponse(self.context.group_refusal())
        op, rest = action.args[0], action.args[1:]
        if action.verb == "pt":
            return await self._patient_action(sender, op, rest)
        if not rest or not _ID.match(rest[0]):
            return self.expired()
        target, arg = int(rest[0]), (rest[1] if len(rest) > 1 else None)
        if action.verb == "bc":
            return await self._broadcast_action(sender, op, target, arg)
        return await self._team_action(sender, op, target, arg)

    async def _patient_action(self, sender: Sender, op: str, rest: tuple[str, ...]) -> TeamResponse:
        if op == "join" and rest:
            return await self._join_button(sender, rest[0])
        if not rest or not _ID.match(rest[0]):
            return self.expired()
        team_id = int(rest[0])
        async with self.db.session() as session:
            team = await teams.get_team(session, team_id)
            if team is None:
                return self.expired()
            if op == "nojoin":
                return TeamResponse(Response((self.ui("join_declined", team=team.name),), clear_buttons=True))
            if not await teams.is_patient(session, team.id, sender.user_id):
                return self.expired()
            if op == "leave":
                buttons = (
                    (self.button("leave_team_yes", "pt", "leaveok", str(team.id)),),
                    (self.button("stay_team", "pt", "stay", str(team.id)),),
                )
                return self.say("team_leave_patient_confirm", buttons, team=team.name)
            if op == "leaveok":
                await teams.remove_patient(session, team.id, sender.user_id)
                logger.info("a patient left team id=%d", team.id)
                return TeamResponse.of(self.ui("team_left_patient", team=team.name), edit=True)
            if op == "stay":
                return TeamResponse.of(self.ui("team_leave_kept", team=team.name), edit=True)
        return self.expired()

    async def _team_action(self, sender: Sender, op: str, team_id: int, arg: str | None) -> TeamResponse:
        if op == "pick":
            if arg == "team":
                return await self._team_card(sender, team_id)
            if arg == "stats":
                return await self._stats(sender, team_id)
            if arg == "bc":
                async with self.db.session() as session:
                    dialog = await repo.get_dialog(session, sender.user_id)
                text = dialog.data.get("text") if dialog and dialog.flow == "bcast" else None
                return await self._compose(sender, team_id, text if isinstance(text, str) else None)
            return self.expired()
        async with self.db.session() as session:
            team = await self._staff_team(session, sender.user_id, team_id)
            if team is None:
                logger.info("refused a team button from someone not on the team's staff")
                return self.refused_button()
            tid = str(team.id)
            now = self.now()
            if op == "invite":
                code = await teams.create_staff_invite(
                    session, team.id, sender.user_id, now, INVITE_VALID_FOR
                )
                hours = int(INVITE_VALID_FOR.total_seconds() // 3600)
                return self.say("team_invite", team=team.name, link=self.link(code), hours=hours)
            if op == "rotate":
                buttons = (
                    (self.button("team_rotate_yes", "tm", "rotok", tid),),
                    (self.button("keep", "tm", "keep", tid),),
                )
                return self.say("team_rotate_confirm", buttons, team=team.name)
            if op == "rotok":
                code = await teams.rotate_join_code(session, team.id, now)
                logger.info("join code rotated for team id=%d", team.id)
                link = self.link(code)
                png = await asyncio.to_thread(qr_png, link)
                caption = self.context.domain.renderer.ui("team_qr_caption", team=team.name)
                return TeamResponse(
                    Response.of(self.ui("team_rotated", team=team.name, link=link), edit=True),
                    (Document(f"join-{team.id}.png", png, caption, "image/png"),),
                )
            if op == "keep":
                return TeamResponse(Response((self.ui("flow_cancelled"),), edit=True))
            if op == "leave":
                if len(await teams.list_staff(session, team.id)) <= 1:
                    return self.say("team_last_staff", team=team.name)
                buttons = (
                    (self.button("team_leave_yes", "tm", "leaveok", tid),),
                    (self.button("keep", "tm", "keep", tid),),
                )
                return self.say("team_leave_confirm", buttons, team=team.name)
            if op == "leaveok":
                if len(await teams.list_staff(session, team.id)) <= 1:
                    return self.say("team_last_staff", team=team.name)
                await teams.remove_staff(session, team.id, sender.user_id)
                return TeamResponse.of(self.ui("team_left", team=team.name), edit=True)
            if op == "contact":
                if arg is None:
                    rows = (
                        (
                            self.button("contact_phone", "tm", "contact", tid, "phone"),
                            self.button("contact_email", "tm", "contact", tid, "email"),
                        ),
                        (
                            self.button("contact_hours", "tm", "contact", tid, "hours"),
                            self.button("contact_clear", "tm", "contact", tid, "clear"),
                        ),
                    )
                    return self.say("team_contact_menu", rows, team=team.name, **self._contact_vars(team))
                if arg == "clear":
                    team = (
                        await teams.set_team_contact(
                            session, team.id, contact_phone=None, contact_email=None, contact_hours=None
                        )
                        or team
                    )
                    return self.say("team_contact_saved", team=team.name, **self._contact_vars(team))
                if arg in CONTACT_FIELDS:
                    column, field, example = CONTACT_FIELDS[arg]
                    await repo.set_dialog(session, sender.user_id, "contact", arg, {"team": team.id}, now=now)
                    return self.say(
                        "team_contact_ask",
                        field=field,
                        example=example,
                        limit=teams.MAX_CONTACT_FIELD[column],
                    )
        return self.expired()

    # -- the next message of a staff flow ------------------------------------------------------------

    async def text(self, sender: Sender, text: str) -> TeamResponse | None:
        """Take the message for a staff flow under way (broadcast text, contact details); None if there is none.

        A message that needs the safety reply is left to the patient service, which answers it first.
        """
        if not sender.private:
            return None
        async with self.db.session() as session:
            dialog = await repo.get_dialog(session, sender.user_id)
            if dialog is None or dialog.flow not in STAFF_FLOWS or dialog.step == "pick":
                return None
            if self.now() - dialog.updated_at > DIALOG_TTL:
                return None
            if self.context.domain.matcher.safety(text[:4000]) in SAFETY_INTENTS:
                return None
            if _CANCEL.match(text):
                await repo.clear_dialog(session, sender.user_id)
                return self.say("flow_cancelled")
            team_id = dialog.data.get("team")
            team = (
                await self._staff_team(session, sender.user_id, team_id) if isinstance(team_id, int) else None
            )
            if team is None:
                await repo.clear_dialog(session, sender.user_id)
                return self.refused()
            if dialog.flow == "contact" and dialog.step in CONTACT_FIELDS:
                column, field, _ = CONTACT_FIELDS[dialog.step]
                limit = teams.MAX_CONTACT_FIELD[column]
                if len(text.strip()) > limit:
                    return self.say("team_contact_too_long", limit=limit, field=field)
                team = await teams.set_team_contact(session, team.id, **{column: text}) or team
                await repo.clear_dialog(session, sender.user_id)
                return self.say("team_contact_saved", team=team.name, **self._contact_vars(team))
        if dialog.flow == "bcast":
            return await self._compose(sender, team.id, text)
        return None
