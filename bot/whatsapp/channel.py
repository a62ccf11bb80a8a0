"""Connects the WhatsApp Cloud API to the front desk. Translation only: a webhook message ->
``Inbound``, ``Outbound`` -> Graph API sends. No conversation logic lives here.

Identity: a citizen is their ``wa_id`` (the phone number WhatsApp reports), or, for someone
with a WhatsApp username who shares no number, their business-scoped user id (``ID.123...``).
Either is personal data: it is stored only as ``users.external_id`` (erased by /hapusdata,
in ``loket export-user``) and masked in every log line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcast import store
from bot.broadcast.verify import plain_lines
from bot.engine.messages import Inbound, Outbound
from bot.frontdesk import Clock, FrontDesk, system_clock
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.notify.delivery import DeliveryResult
from bot.privacy import mask_identifiers
from bot.storage import repo
from bot.storage.models import (
    Announcement,
    AnnouncementDelivery,
    User,
    WhatsAppMenu,
    WhatsAppOutbound,
)
from bot.whatsapp import limits
from bot.whatsapp.client import GraphClient, GraphError
from bot.whatsapp.render import (
    MORE_PREFIX,
    Menu,
    Rendered,
    from_html,
    render,
    render_page,
    split_text,
)
from bot.whatsapp.templates import (
    ANNOUNCEMENT,
    DEFAULT_TEMPLATES,
    MAX_PARAMETER,
    NOTIFICATION,
    PARAMETER_JOIN,
    Template,
    parameter,
    templates_from_env,
)

logger = logging.getLogger(__name__)
CHANNEL = "whatsapp"
WINDOW = dt.timedelta(hours=24)  # the customer-service window after a citizen's message
# Statuses in the order Meta reports them: a late "delivered" never undoes a "read".
_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
_TEXT_KINDS = ("text",)
_MEDIA_KINDS = ("image", "video", "document")


@dataclass(frozen=True, slots=True)
class WhatsAppSettings:
    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    api_base_url: str = limits.GRAPH_API_BASE_URL
    templates: Mapping[str, Template] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))

    @classmethod
    def from_settings(cls, settings: Any) -> WhatsAppSettings | None:
        """None when WhatsApp is not configured (no phone number id and no token)."""
        if not (settings.whatsapp_phone_number_id or settings.whatsapp_access_token):
            return None
        return cls(
            phone_number_id=settings.whatsapp_phone_number_id or "",
            access_token=settings.whatsapp_access_token or "",
            app_secret=settings.whatsapp_app_secret or "",
            verify_token=settings.whatsapp_verify_token or "",
            api_base_url=settings.whatsapp_api_base_url or limits.GRAPH_API_BASE_URL,
            templates=templates_from_env(settings.env),
        )

    def problems(self) -> list[str]:
        """What stops ``loket run`` from serving WhatsApp safely (fail closed)."""
        found = []
        for name, value in (
            ("WHATSAPP_PHONE_NUMBER_ID", self.phone_number_id),
            ("WHATSAPP_ACCESS_TOKEN", self.access_token),
            ("WHATSAPP_APP_SECRET", self.app_secret),
            ("WHATSAPP_VERIFY_TOKEN", self.verify_token),
        ):
            if not value.strip():
                found.append(f"{name} is missing")
        return found


def identity(message: Mapping[str, Any], contact: Mapping[str, Any]) -> str | None:
    """The citizen's id: their ``wa_id`` when WhatsApp shares it, else the username-only
    business-scoped user id."""
    wa_id = contact.get("wa_id") or message.get("from")
    if wa_id:
        return str(wa_id).lstrip("+")
    user_id = contact.get("user_id") or message.get("from_user_id")
    return str(user_id) if user_id else None


def to_inbound(message: Mapping[str, Any]) -> Inbound:
    """The webhook's message object as what the citizen did."""
    kind = message.get("type")
    context = message.get("context") or {}
    forwarded = bool(context.get("forwarded") or context.get("frequently_forwarded"))
    if kind in _TEXT_KINDS:
        text = str((message.get("text") or {}).get("body", ""))
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1 and not forwarded:
            head, _, argument = stripped[1:].partition(" ")
            return Inbound(kind="command", command=head.lower(), argument=argument.strip())
        return Inbound(kind="text", text=text, forwarded=forwarded)
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        if reply.get("id"):
            return Inbound(kind="button", payload=str(reply["id"]))
    if kind == "button":  # a template's quick-reply button
        button = message.get("button") or {}
        if button.get("payload"):
            return Inbound(kind="button", payload=str(button["payload"]))
        if button.get("text"):
            return Inbound(kind="text", text=str(button["text"]))
    if kind in _MEDIA_KINDS and forwarded:  # a forwarded announcement with a photo
        caption = (message.get(kind) or {}).get("caption")
        if caption:
            return Inbound(kind="text", text=str(caption), forwarded=True)
    return Inbound(kind="unsupported")


class WhatsAppChannel:
    """Handles recorded webhook messages and statuses; sends replies and notifications."""

    def __init__(
        self,
        frontdesk: FrontDesk,
        translator: Translator,
        sessions: async_sessionmaker[AsyncSession],
        client: GraphClient,
        *,
        templates: Mapping[str, Template] = DEFAULT_TEMPLATES,
        clock: Clock = system_clock,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.frontdesk = frontdesk
        self.translator = translator
        self.sessions = sessions
        self.client = client
        self.templates = dict(templates)
        self.clock = clock
        self.on_sent = on_sent
        self.handled = 0
        self.statuses = 0
        # Unasked sends between their call and their row (see handle_status).
        self._recording: set[asyncio.Event] = set()

    # -- citizens' messages (the inbox's handle) -------------------------------------------

    async def handle_message(self, recorded: dict[str, Any]) -> None:
        message = recorded.get("message") or {}
        contact = recorded.get("contact") or {}
        external_id = identity(message, contact)
        if external_id is None:
            logger.warning("WhatsApp message without a sender id dropped")
            return
        event = to_inbound(message)
        self.handled += 1
        if event.kind == "button" and event.payload.startswith(MORE_PREFIX):
            await self._next_page(external_id, event.payload)
            return
        replies = await self.frontdesk.handle(CHANNEL, external_id, event)
        await self.send(external_id, replies)

    async def send(self, external_id: str, replies: list[Outbound]) -> int:
        """Sends replies in order; a list of more than ten options keeps its menu."""
        gettext = await self._gettext(external_id) if any(r.buttons for r in replies) else None
        sent = 0
        for reply in replies:
            rendered = render(reply, gettext or self._id_gettext)
            if rendered.menu is not None:
                await self._keep_menu(external_id, rendered.menu)
            sent += await self._send_rendered(external_id, rendered)
        if self.on_sent is not None and sent:
            self.on_sent(sent)
        return sent

    async def _send_rendered(self, external_id: str, rendered: Rendered) -> int:
        sent = 0
        for body in rendered.messages:
            try:
                await self.client.send(external_id, body)
            except GraphError as error:
                logger.warning(
                    "WhatsApp reply not sent: %s %s",
                    error.code,
                    mask_identifiers(f"{error} {error.details}"),
                )
                return sent
            sent += 1
        return sent

    async def _next_page(self, external_id: str, payload: str) -> None:
        try:
            page = int(payload[len(MORE_PREFIX) :])
        except ValueError:
            return
        async with self.sessions() as session:
            user = await repo.find_user(session, CHANNEL, external_id)
            row = None if user is None else await session.get(WhatsAppMenu, user.id)
            menu = None if row is None else Menu.from_json(row.menu)
            locale = user.locale if user is not None else DEFAULT_LOCALE
        if menu is None:  # erased meanwhile, or a stale press: the menu explains itself
            replies = await self.frontdesk.handle(
                CHANNEL, external_id, Inbound(kind="command", command="menu")
            )
            await self.send(external_id, replies)
            return
        await self._send_rendered(external_id, render_page(menu, page, self._gettext_for(locale)))

    async def _keep_menu(self, external_id: str, menu: Menu) -> None:
        async with self.sessions() as session, session.begin():
            user = await repo.find_user(session, CHANNEL, external_id)
            if user is None:
                return
            row = await session.get(WhatsAppMenu, user.id)
            if row is None:
                session.add(WhatsAppMenu(user_id=user.id, menu=menu.to_json()))
            else:
                row.menu = menu.to_json()
                row.updated_at = self.clock()

    async def _gettext(self, external_id: str) -> Callable[..., str]:
        async with self.sessions() as session:
            locale = await session.scalar(
                select(User.locale).where(User.channel == CHANNEL, User.external_id == external_id)
            )
        return self._gettext_for(locale or DEFAULT_LOCALE)

    def _gettext_for(self, locale: str) -> Callable[..., str]:
        def gettext(message: str, **params: object) -> str:
            return self.translator.gettext(locale, message, **params)

        return gettext

    def _id_gettext(self, message: str, **params: object) -> str:
        return self.translator.gettext(DEFAULT_LOCALE, message, **params)

    # -- messages the citizen did not ask for -----------------------------------------------

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        """A status notification (``bot.notify.delivery.Deliver``)."""
        if channel != CHANNEL:
            return DeliveryResult.FAILED
        return await self.deliver_unasked(external_id, message, kind=NOTIFICATION)

    async def deliver_unasked(
        self, external_id: str, message: Outbound, *, kind: str, reference: str | None = None
    ) -> DeliveryResult:
        """Sends inside the 24-hour window as an ordinary message (its template kept as the
        fallback should Meta answer 131047), outside it as the kind's approved template."""
        result, _error = await self._unasked(
            external_id, kind=kind, reference=reference, message=message
        )
        return result

    async def deliver_announcement(
        self, external_id: str, text_html: str, reference: str
    ) -> tuple[DeliveryResult, GraphError | None]:
        """One announcement (Telegram HTML with its footer, as the broadcast renders it) in
        WhatsApp's markup inside the window, as the announcement template outside it; the
        Graph API's refusal is returned with the result so that the broadcast can tell a
        throttle (130429, 131056) from an undeliverable number (131026)."""
        return await self._unasked(
            external_id, kind=ANNOUNCEMENT, reference=reference, text_html=text_html
        )

    async def _unasked(
        self,
        external_id: str,
        *,
        kind: str,
        reference: str | None,
        message: Outbound | None = None,
        text_html: str | None = None,
    ) -> tuple[DeliveryResult, GraphError | None]:
        async with self.sessions() as session:
            user = await repo.find_user(session, CHANNEL, external_id)
        if user is None:
            return DeliveryResult.BLOCKED, None
        template = self.templates.get(kind)
        if message is not None:
            rendered = render(message, self._gettext_for(user.locale))
            flat = _flat(message)
        else:
            assert text_html is not None
            rendered = Rendered(
                [
                    {"type": "text", "text": {"body": part, "preview_url": False}}
                    for part in split_text(from_html(text_html), limits.MAX_TEXT_BODY)
                ]
            )
            flat = announcement_parameter(text_html)
        fallback = None if template is None else template.message(flat)
        inside = self.clock() - _aware(user.last_seen_at) < WINDOW
        recorded = asyncio.Event()  # a status webhook for this send waits for its row
        self._recording.add(recorded)
        try:
            if inside or fallback is None:
                if rendered.menu is not None:
                    await self._keep_menu(external_id, rendered.menu)
                wamid = ""
                for body in rendered.messages:
                    wamid = await self.client.send(external_id, body)
                await self._record(wamid, user.id, kind, reference, None, fallback)
            else:
                assert template is not None
                wamid = await self.client.send(external_id, fallback)
                await self._record(wamid, user.id, kind, reference, template.name, None)
        except GraphError as error:
            return await self._refused(error, external_id, user.id, kind, reference, fallback)
        finally:
            recorded.set()
            self._recording.discard(recorded)
        return DeliveryResult.DELIVERED, None

    async def _refused(
        self,
        error: GraphError,
        external_id: str,
        user_id: int,
        kind: str,
        reference: str | None,
        fallback: dict[str, Any] | None,
    ) -> tuple[DeliveryResult, GraphError]:
        if error.code == limits.WINDOW_CLOSED and fallback is not None:
            try:  # never lost: the approved template goes instead
                wamid = await self.client.send(external_id, fallback)
            except GraphError as second:
                error = second
            else:
                name = fallback["template"]["name"]
                await self._record(wamid, user_id, kind, reference, name, None)
                return DeliveryResult.DELIVERED, error
        if error.code == limits.UNDELIVERABLE:
            return DeliveryResult.BLOCKED, error
        if error.retryable:
            return DeliveryResult.RETRY, error
        detail = mask_identifiers(f"{error} {error.details}")
        logger.error("WhatsApp refused a %s: %s", kind, detail)
        return DeliveryResult.FAILED, error

    async def _record(
        self,
        wamid: str,
        user_id: int,
        kind: str,
        reference: str | None,
        template: str | None,
        fallback: dict[str, Any] | None,
    ) -> None:
        if not wamid:
            return
        now = self.clock()
        async with self.sessions() as session, session.begin():
            session.add(
                WhatsAppOutbound(
                    message_id=wamid,
                    user_id=user_id,
                    kind=kind,
                    reference=reference,
                    template=template,
                    status="accepted",
                    fallback=fallback,
                    created_at=now,
                    updated_at=now,
                )
            )

    # -- statuses ---------------------------------------------------------------------------

    async def handle_status(self, status: Mapping[str, Any]) -> None:
        """Records sent/delivered/read/failed for a notification or announcement; a free-text
        message refused for a closed window (131047) is sent again as its template; a number
        that cannot receive (131026) is marked inactive like a Telegram 403."""
        wamid = str(status.get("id") or "")
        name = str(status.get("status") or "")
        if not wamid or name not in _RANK:
            return
        self.statuses += 1
        errors = status.get("errors") or []
        code = None
        if errors and isinstance(errors[0], Mapping) and str(errors[0].get("code", "")).isdigit():
            code = int(errors[0]["code"])
        if not await self._known(wamid):
            # Meta may report a message before this process has stored the id its send
            # returned: wait for the sends in flight now (never for later ones), then look
            # again (a send that finished meanwhile has its row). Still unknown: an ordinary
            # reply, whose fate is not kept, and no write is taken for it.
            await asyncio.gather(*(event.wait() for event in list(self._recording)))
            if not await self._known(wamid):
                return
        async with self.sessions() as session, session.begin():
            # Locked: "sent" and "delivered" arrive together; the later rank must win.
            row = await session.get(WhatsAppOutbound, wamid, with_for_update=True)
            if row is None:
                return  # an ordinary reply: its fate is not kept
            if _RANK[name] <= _RANK.get(row.status, 0) and name != "failed":
                return
            row.status = name
            row.error_code = code
            row.updated_at = self.clock()
            fallback = row.fallback if name == "failed" and code == limits.WINDOW_CLOSED else None
            user_id, kind, reference = row.user_id, row.kind, row.reference
            row.fallback = None
            user = await session.get(User, user_id)
            external_id = user.external_id if user is not None else None
            if name == "failed" and code == limits.UNDELIVERABLE:
                await _undeliverable(session, user_id, kind, reference, self.clock())
        if fallback is not None and external_id is not None:
            recorded = asyncio.Event()  # its own statuses wait for its row, as in _unasked
            self._recording.add(recorded)
            try:
                wamid = await self.client.send(external_id, fallback)
                name = fallback["template"]["name"]
                await self._record(wamid, user_id, kind, reference, name, None)
            except GraphError as error:
                logger.error("template after 131047 not sent: %s", mask_identifiers(str(error)))
            finally:
                recorded.set()
                self._recording.discard(recorded)
        elif name == "failed":
            logger.info("WhatsApp %s %s failed with %s", kind, reference or "-", code)

    async def _known(self, wamid: str) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(WhatsAppOutbound.message_id).where(WhatsAppOutbound.message_id == wamid)
            )
        return found is not None


async def _undeliverable(
    session: AsyncSession, user_id: int, kind: str, reference: str | None, now: dt.datetime
) -> None:
    """131026 reported after the send was accepted: no more announcements to this citizen
    (until they write again, as after a Telegram 403), and the announcement's row says so."""
    await store.mark_inactive(session, user_id, "131026 undeliverable")
    if kind == NOTIFICATION:  # as the notification loop does for a blocked citizen
        await repo.give_up_notifications(session, user_id, "blocked")
        await repo.stop_follows(session, user_id)
        return
    if kind != ANNOUNCEMENT or reference is None:
        return
    announcement = await session.scalar(
        select(Announcement.id).where(Announcement.reference == reference)
    )
    if announcement is None:
        return
    # One statement for "sent" and "sending" (the sender has not written its outcome yet):
    # on PostgreSQL it waits for a flush in progress and then sees the row as flushed, and
    # the sender's flush leaves a row that is no longer "sending" alone.
    changed = await session.execute(
        update(AnnouncementDelivery)
        .where(
            AnnouncementDelivery.announcement_id == announcement,
            AnnouncementDelivery.user_id == user_id,
            AnnouncementDelivery.status.in_(("sent", "sending")),
        )
        .values(status="blocked", last_error="131026 undeliverable")
    )
    if changed.rowcount:  # type: ignore[attr-defined]
        counts = dict(
            (
                await session.execute(
                    select(AnnouncementDelivery.status, func.count())
                    .where(AnnouncementDelivery.announcement_id == announcement)
                    .group_by(AnnouncementDelivery.status)
                )
            ).all()
        )
        await session.execute(
            update(Announcement)
            .where(Announcement.id == announcement)
            .values(sent=counts.get("sent", 0), blocked=counts.get("blocked", 0))
        )


def _flat(message: Outbound) -> str:
    return f"{message.title}: {message.text}" if message.title else message.text


def announcement_parameter(text_html: str) -> str:
    """The announcement template's parameter: the text as read, shortened if it must be, but
    always ending with its verification footer (the code the hoax check needs)."""
    text = plain_lines(text_html)
    body, separator, footer = text.rpartition("\n\n")
    if not separator:
        return parameter(text)
    tail = parameter(footer)
    room = MAX_PARAMETER - len(tail) - len(PARAMETER_JOIN)
    return f"{parameter(body, room)}{PARAMETER_JOIN}{tail}"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
