"""Where an answer tells a patient to ask their care team, add how to reach the teams they joined."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Reply
from bot.service._base import ServiceBase
from bot.storage.repositories import teams
from bot.telegram_html import to_plain_text


def mentions_care_team(replies: Iterable[Reply]) -> bool:
    """Tell whether any of the replies points the patient to their care team."""
    return any(
        "care team" in to_plain_text(reply.html).lower() for reply in replies if reply.kind != "safety"
    )


async def care_team_contacts(
    context: ServiceBase, session: AsyncSession, user_id: int, replies: Iterable[Reply]
) -> Reply | None:
    """Return the contact routes of the patient's teams when the replies send them to their care team."""
    if not mentions_care_team(replies):
        return None
    reachable = [team for team in await teams.list_patient_teams(session, user_id) if team.has_contact]
    if not reachable:
        return None
    return context.ui("team_contacts", teams=reachable)
