"""The patient service: every command, message and button, in domain terms, for any chat front end."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import LEVEL_NAMES, SAFETY_INTENTS
from bot.conversation import Action, Keyboard, Reply, UserContext, decode
from bot.metrics import ANSWERS, UNANSWERED
from bot.service._askers import asker_hash
from bot.service._base import DIALOG_TTL, ServiceBase
from bot.service._journal import JournalFlows
from bot.service._scans import ScanFlows
from bot.service._settings import SettingsFlows
from bot.service._team_contacts import care_team_contacts
from bot.service._types import Document, Response, Sender
from bot.storage import repositories as repo
from bot.storage.records import UserRecord
from bot.storage.repositories.teams import tally_answer

logger = logging.getLogger(__name__)


def clean_text(text: str) -> str:
    """Drop NUL characters: no person types one, and PostgreSQL cannot store text that holds one."""
    return text.replace("\x00", "")


_MORE = re.compile(
    r"^\s*(tell me )?(more|more please|go on|more detail|details|explain more)\s*[.!?]*\s*$", re.I
)
_CANCEL = re.compile(r"^\s*(cancel|stop|never ?mind|nevermind|quit|exit)\s*[.!]*\s*$", re.I)
_YES = re.compile(r"^\s*(yes|yeah|yep|yup|yes please|ok|okay|sure|i agree|agree)\s*[.!]*\s*$", re.I)
_NO = re.compile(r"^\s*(no|nope|nah|no thanks|no thank you)\s*[.!]*\s*$", re.I)


class PatientService(JournalFlows, SettingsFlows, ScanFlows, ServiceBase):
    """Answer patients: commands, free text and button presses."""

    # -- commands --------------------------------------------------------------------------------

    async def start(self, sender: Sender, code: str | None = None) -> Response:
        """Welcome the user, resume paused messages, and ask for consent if not yet given."""
        async with self.db.session() as session:
            user, returning = await self.visit(session, sender)
            replies: list[Reply] = []
            if returning:
                # Unblocking the bot in Telegram sends /start: tell them what is still set.
                replies.append(await self._welcome_back(session, user))
            if user.paused:
                await repo.update_user(session, user.id, paused=False)
                replies.append(self.ui("resumed"))
            if code:
                # Join codes belong to care teams, a later feature: say so instead of ignoring the code.
                replies.append(self.ui("join_code_unknown"))
            buttons: Keyboard = (
                self.consent_buttons()
                if user.consent is None and sender.private
                else ((self.button("topics", "groups"),),)
            )
            replies.insert(0, self.ui("start", buttons, first_name=sender.first_name))
            return Response(tuple(replies))

    async def help(self, sender: Sender) -> Response:
        return self.say("help", ((self.button("topics", "groups"),),))

    async def topics(self, sender: Sender) -> Response:
        return Response.of(self.conversation.topics())

    async def sources(self, sender: Sender) -> Response:
        """Show the article's references and the content version."""
        async with self.db.session() as session:
            user, _ = await self.visit(session, sender)
            context = await self.context(session, user, sender)
        return Response.of(self.conversation.answer("sources", "short", context))

    async def unknown_command(self, sender: Sender, command: str) -> Response:
        return self.say("unknown_command", command=command[:64])

    async def unsupported(self, sender: Sender, what: str) -> Response:
        return self.say("unsupported_message", what=what)

    async def stop(self, sender: Sender) -> Response:
        """Pause everything the bot sends unprompted."""
        if not sender.private:
            return self.group_refusal()
        async with self.db.session() as session:
            user, _ = await self.visit(session, sender)
            await repo.update_user(session, user.id, paused=True)
            reminders = await repo.list_reminders(session, user.id, ("pending",))
        return self.say("stopped", count=len(reminders))

    # -- privacy ---------------------------------------------------------------------------------

    async def mydata(self, sender: Sender) -> Response:
        """Send everything stored about the user as a JSON document."""
        if not sender.private:
            return self.group_refusal()
        async with self.db.session() as session:
            data = await repo.export_user_data(session, sender.user_id)
        if not data or not data.get("user"):
            return self.say("mydata_empty")
        content = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
        caption = self.domain.renderer.ui("mydata_caption")
        document = Document("bonebot-my-data.json", content, caption, "application/json")
        return Response(document=document)

    async def forget(self, sender: Sender) -> Response:
        """Ask to confirm deleting everything about the user."""
        if not sender.private:
            return self.group_refusal()
        buttons = ((self.button("forget_yes", "forget", "yes"),), (self.button("forget_no", "forget", "no"),))
        return self.say("forget_confirm", buttons)

    async def _forget_confirmed(self, sender: Sender) -> Response:
        self.memory.forget(sender.user_id)
        async with self.db.session() as session:
            deleted = await repo.delete_user_data(session, sender.user_id)
        logger.info("deleted user data rows=%d", deleted)
        return Response.of(self.ui("forget_done"), edit=True)

    # -- free text -------------------------------------------------------------------------------

    async def text(self, sender: Sender, text: str) -> Response:
        """Answer a message: safety first, then any guided flow under way, then the knowledge base."""
        text = clean_text(text)
        # The safety layer is the costliest step and reads only the text: reading it before the transaction
        # opens keeps the database's write lock (SQLite has one for everybody) short.
        verdict = await self.safety.assess(text)
        async with self.db.session() as session:
            user, returning = await self.visit(session, sender)
            context = await self.context(session, user, sender)
            prefix: list[Reply] = []
            if returning:
                prefix.append(await self._welcome_back(session, user))
            screening = await self.safety.screen(session, user, text, context, verdict)
            if screening.reply is not None:
                # The safety reply comes alone and first; any flow under way stays where it was.
                if screening.verdict.intent is not None:
                    ANSWERS.labels(intent=screening.verdict.intent, level="short").inc()
                return Response(screening.replies)
            dialog = await repo.get_dialog(session, user.id) if sender.private else None
            if dialog is not None and self.clock() - dialog.updated_at > DIALOG_TTL:
                await repo.clear_dialog(session, user.id)
                dialog = None
            if dialog is not None:
                if _CANCEL.match(text):
                    await repo.clear_dialog(session, user.id)
                    return Response((*prefix, self.ui("flow_cancelled")))
                handled = await self.continue_flow(
                    session, sender, user, dialog.flow, dialog.step, dialog.data, text
                )
                if handled is not None:
                    return Response((*prefix, *handled.replies), handled.document, handled.toast)
            if _MORE.match(text) and sender.private and user.last_intent in self.domain.knowledge.intents:
                more = await self._more(session, user, sender, user.last_intent, None)
                return Response((*prefix, *more.replies))
            english_only = self.safety.english_only(screening.verdict, context)
            if english_only is not None:
                return Response((*prefix, english_only))
            outcome = self.conversation.respond(text, context, screening.verdict)
            if outcome.unanswered:
                UNANSWERED.inc()
                asker = asker_hash(self.settings, user.id, outcome.unanswered)
                await repo.record_unanswered(session, outcome.unanswered, self.clock(), asker)
            answered = next((r for r in outcome.replies if r.intent), None)
            if answered is not None and answered.intent is not None:
                ANSWERS.labels(intent=answered.intent, level=answered.level or "short").inc()
                # A count per topic and month for the care teams' /stats, linked to nobody.
                await tally_answer(session, self.clock().strftime("%Y-%m"), answered.intent)
            if answered is not None and answered.intent not in SAFETY_INTENTS and sender.private:
                await repo.update_user(
                    session, user.id, last_intent=answered.intent, last_level=answered.level
                )
            if "profile" in outcome.extra:
                await self._introduced(session, user, sender, outcome.extra)
            replies = [*prefix, *outcome.replies]
            if screening.verdict.ambiguous:
                # Close to an alarm but not clearly one: answer, and say what to do in an emergency.
                replies.append(self.conversation.safety_line(context))
            # Private chats only: in a group it would tell the others which teams the patient is in.
            contacts = (
                await care_team_contacts(self, session, user.id, outcome.replies) if sender.private else None
            )
            if contacts is not None:
                replies.append(contacts)
            if outcome.start_flow == "scan" and sender.private:
                flow = await self.needs_consent(session, user, "scan", "scan") or await self.scan_flow(
                    session, sender, user, None
                )
                replies.extend(flow.replies)
            return Response(tuple(replies))

    async def text_without_storage(self, sender: Sender, text: str) -> Response:
        """Answer a message from the content alone while the database is unavailable; say nothing was saved."""
        text = clean_text(text)
        context = UserContext(
            contacts=self.directory.for_user(
                language_code=sender.language_code, default_timezone=self.settings.default_timezone
            ),
            private_chat=sender.private,
        )
        verdict = await self.safety.assess(text)
        if verdict.intent is not None:
            return Response((self.conversation.safety_reply(verdict, context), self.ui("cant_save")))
        english_only = self.safety.english_only(verdict, context)
        if english_only is not None:
            return Response((english_only,))
        outcome = self.conversation.respond(text, context, verdict)
        answered = next((r for r in outcome.replies if r.intent), None)
        if answered is not None:
            ANSWERS.labels(intent=answered.intent, level=answered.level or "short").inc()
        return Response((*outcome.replies, self.ui("cant_save")))

    async def continue_flow(
        self,
        session: AsyncSession,
        sender: Sender,
        user: UserRecord,
        flow: str,
        step: str,
        data: dict[str, Any],
        text: str,
    ) -> Response | None:
        """Hand the message to the guided flow under way; None means the flow did not take it."""
        if flow == "reflect":
            return await self.save_reflection(session, user, text, str(data.get("prompt", "")))
        if flow == "question":
            return await self.save_question(session, user, text)
        if flow == "scan":
            return await self.scan_step(session, sender, user, step, data, text)
        if flow == "timezone":
            return await self.timezone_step(session, sender, user, data, text)
        if flow == "country":
            return Response.of(await self.safety.country_in(session, user, text))
        if flow == "consent":
            # "yes" or "no" typed instead of tapping answers the question pending; anything else is
            # answered as usual.
            if _YES.match(text) or _NO.match(text):
                return await self._consent(session, sender, user, bool(_YES.match(text)))
            return None
        await repo.clear_dialog(session, user.id)
        return None

    async def _introduced(
        self, session: AsyncSession, user: UserRecord, sender: Sender, extra: dict[str, str]
    ) -> None:
        """Keep what an introduction said: in the settings with consent, else for this conversation only."""
        profile, medicine = extra["profile"], extra.get("medicine") or None
        if user.consent and sender.private:
            await repo.update_user(session, user.id, profile=profile, medicine=medicine)
        else:
            self.memory.remember(user.id, profile, medicine, self.clock())

    async def _welcome_back(self, session: AsyncSession, user: UserRecord) -> Reply:
        reminders = await repo.list_reminders(session, user.id, ("pending",))
        scan = await repo.get_upcoming_scan(session, user.id)
        return self.ui(
            "welcome_back",
            count=len(reminders),
            scan_date=self.describe_scan(scan) if scan else None,
        )

    async def _more(
        self, session: AsyncSession, user: UserRecord, sender: Sender, intent_id: str, level: str | None
    ) -> Response:
        intent = self.domain.knowledge.intents.get(intent_id)
        if intent is None:
            return self.expired()
        if level is None:
            current = user.last_level if user.last_intent == intent_id and user.last_level else "short"
            level = intent.next_level(current)
            if level is None:
                return self.say("no_more", title=intent.title)
        context = await self.context(session, user, sender)
        reply = self.conversation.more(intent_id, level, context)
        if reply is None:
            return self.expired()
        if reply.intent:
            ANSWERS.labels(intent=intent_id, level=level).inc()
            await repo.update_user(session, user.id, last_intent=intent_id, last_level=level)
        return Response.of(reply)

    # -- buttons ---------------------------------------------------------------------------------

    async def action(self, sender: Sender, data: str | None) -> Response:
        """Carry out a button press; anything forged or stale gets a polite "expired" reply."""
        action = decode(data)
        if action is None:
            logger.info("refused malformed button data")
            return self.expired()
        response = await self._dispatch_action(sender, action)
        return response if response is not None else self.expired()

    def expired(self) -> Response:
        return Response(toast=self.domain.renderer.ui("expired_button"))

    async def _dispatch_action(self, sender: Sender, action: Action) -> Response | None:
        verb, args = action.verb, action.args
        if verb == "groups":
            return Response.of(self.conversation.topics(), edit=True)
        if verb == "group":
            reply = self.conversation.group(args[0])
            return Response.of(reply, edit=True) if reply else None
        if verb == "forget":
            if args[0] == "yes":
                return await self._forget_confirmed(sender)
            return Response.of(self.ui("forget_cancelled"), edit=True) if args[0] == "no" else None
        personal = {
            "consent",
            "qadd",
            "qdel",
            "qclear",
            "qask",
            "scan",
            "scandate",
            "set",
            "tz",
            "tzskip",
            "rem",
            "next",
            "ics",
            "scancancel",
            "reflect",
            "flowcancel",
        }
        if verb in personal and not sender.private:
            return self.group_refusal()
        async with self.db.session() as session:
            user, _ = await self.visit(session, sender)
            if verb == "topic":
                if args[0] not in self.domain.knowledge.intents or args[0] in SAFETY_INTENTS:
                    return None
                intent = self.domain.knowledge.intent(args[0])
                context = await self.context(session, user, sender)
                if intent.kind == "flow":
                    if not sender.private:
                        return self.group_refusal()
                    asked = await self.needs_consent(session, user, "scan", "scan")
                    return asked or await self.scan_flow(session, sender, user, None)
                reply = self.conversation.answer(intent.id, "short", context)
                await repo.update_user(session, user.id, last_intent=intent.id, last_level="short")
                return Response.of(reply)
            if verb == "more":
                intent_id, level = args
                if level not in LEVEL_NAMES:
                    return None
                return await self._more(session, user, sender, intent_id, level)
            if verb == "consent":
                return await self._consent(session, sender, user, args[0] == "yes")
            if verb == "country":
                if not sender.private:
                    return self.group_refusal()
                await repo.set_dialog(session, user.id, "country", "await", {}, now=self.clock())
                return self.say("country_ask")
            if verb == "flowcancel":
                await repo.clear_dialog(session, user.id)
                return Response.of(self.ui("flow_cancelled"), edit=True)
            if verb in {"qadd", "qdel", "qclear", "qask", "reflect"}:
                return await self.journal_action(session, sender, user, verb, args)
            if verb in {"set", "tz", "tzskip"}:
                return await self.settings_action(session, sender, user, verb, args)
            if verb in {"scan", "scandate", "rem", "next", "ics", "scancancel"}:
                return await self.scan_action(session, sender, user, verb, args)
        return None

    async def _consent(
        self, session: AsyncSession, sender: Sender, user: UserRecord, given: bool
    ) -> Response:
        dialog = await repo.get_dialog(session, user.id)
        if not given:
            await repo.update_user(session, user.id, consent=False)
            if dialog is not None and dialog.flow == "consent":
                await repo.clear_dialog(session, user.id)
            return Response((self.ui("consent_declined"),), clear_buttons=True)
        user = await repo.update_user(session, user.id, consent=True) or user
        remembered = self.memory.recall(user.id, self.clock())
        if remembered is not None and sender.private:
            # What the patient told about themselves before agreeing is kept now that they have agreed.
            user = (
                await repo.update_user(
                    session, user.id, profile=remembered.profile, medicine=remembered.medicine
                )
                or user
            )
            self.memory.forget(user.id)
        replies: list[Reply] = [self.ui("consent_given")]
        if dialog is not None and dialog.flow == "consent":
            await repo.clear_dialog(session, user.id)
            resumed = await self.resume_after_consent(
                session, sender, user, str(dialog.data.get("then", "")), dialog.data.get("argument")
            )
            if resumed is not None:
                return Response((*replies, *resumed.replies), resumed.document, clear_buttons=True)
        # The welcome with its privacy note stays in the chat; only its buttons go.
        return Response(tuple(replies), clear_buttons=True)

    async def resume_after_consent(
        self, session: AsyncSession, sender: Sender, user: UserRecord, then: str, argument: Any
    ) -> Response | None:
        """Carry on with the feature that asked for consent."""
        text = argument if isinstance(argument, str) else None
        if then == "reflect":
            return await self.reflect_in(session, user, text)
        if then == "questions":
            return await self.questions_in(session, user, text)
        if then.startswith("qadd:"):
            return await self.journal_action(session, sender, user, "qadd", (then.split(":", 1)[1],))
        if then == "scan":
            return await self.scan_flow(session, sender, user, text)
        if then == "timezone":
            return await self.timezone_in(session, sender, user, text)
        if then == "settings":
            return Response.of(self.settings_reply(user))
        return None

    # -- entry points with their own sessions ----------------------------------------------------

    async def _personal(self, sender: Sender, feature: str, then: str, text: str | None = None) -> Response:
        """Run a feature that stores personal data: private chats only, and after consent."""
        if not sender.private:
            return self.group_refusal()
        async with self.db.session() as session:
            user, _ = await self.visit(session, sender)
            asked = await self.needs_consent(session, user, feature, then, text)
            if asked is not None:
                return asked
            # The same step consent resumes to runs here directly when consent was already given.
            response = await self.resume_after_consent(session, sender, user, then, text)
            assert response is not None, f"no feature behind {then!r}"
            return response

    async def reflect(self, sender: Sender, text: str | None = None) -> Response:
        return await self._personal(sender, "journal", "reflect", text)

    async def questions(self, sender: Sender, text: str | None = None) -> Response:
        return await self._personal(sender, "questions", "questions", text)

    async def settings_menu(self, sender: Sender) -> Response:
        return await self._personal(sender, "settings", "settings")

    async def scan(self, sender: Sender, text: str | None = None) -> Response:
        return await self._personal(sender, "scan", "scan", text)

    async def timezone(self, sender: Sender, text: str | None = None) -> Response:
        return await self._personal(sender, "settings", "timezone", text)

    async def reminders(self, sender: Sender) -> Response:
        if not sender.private:
            return self.group_refusal()
        async with self.db.session() as session:
            user, _ = await self.visit(session, sender)
            return await self.reminders_in(session, user)
