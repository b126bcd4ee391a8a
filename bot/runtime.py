"""Build what every entry point shares: content, database, emergency contacts, the patient and staff services."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.contacts import EmergencyDirectory
from bot.domain import Domain, load_domain
from bot.scheduling import resolve_timezone
from bot.service import Clock, PatientService, StaffService, utcnow
from bot.settings import Settings
from bot.storage import Database, upgrade

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The loaded domain, an open database and the service on top of them."""

    settings: Settings
    domain: Domain
    database: Database
    directory: EmergencyDirectory
    service: PatientService
    staff: StaffService

    async def close(self) -> None:
        await self.database.dispose()


async def open_runtime(settings: Settings, *, clock: Clock = utcnow, migrate: bool = True) -> Runtime:
    """Load content, apply migrations and connect; the caller closes the runtime."""
    domain = load_domain()
    if migrate:
        await upgrade(settings.database_url)
    database = Database.connect(settings.database_url)
    directory = EmergencyDirectory.load(settings.emergency_contacts_path)
    service = PatientService(domain, database, settings, directory, clock)
    # The city table behind /timezone takes about a second to load: do it now, not on a patient's message.
    await asyncio.to_thread(resolve_timezone, "London")
    logger.info("content version %s, %d intents", domain.knowledge.version, len(domain.knowledge.intents))
    # The staff service shares the patient service's context (content, database, settings, clock).
    return Runtime(settings, domain, database, directory, service, StaffService(service))
