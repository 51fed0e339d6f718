"""Console sockets: authenticate, join the groups the role allows, send a snapshot, re-render on hints.

Thin (STYLE §9): every read is a query in ``web.views.snapshots``, every write goes through
HTTP views and the services. Messages on the channel layer are hints (at-most-once, §10):
on a hint the consumer re-reads the database and pushes server-rendered HTML that htmx's
WebSocket extension swaps in by element id. A console that reconnects gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation

from hotline.events import AGENTS_GROUP, CENTER_GROUP, agent_group, unit_group
from hotline.models import Role
from web import twofactor
from web.signals import session_group, user_group
from web.views import snapshots as snap

log = logging.getLogger(__name__)

CLOSE_REVOKED = 4001  # session ended, or unit/role changed: the page goes back through the login screen
EXPIRY_RECHECK = 3600.0  # seconds between looks at a far-off session expiry


def session_seconds_left(session_key: str) -> float:
    """Seconds until the session expires; 0 when it has already, or is gone (logged out, cleared)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    model = getattr(store, "model", None)  # db and cached_db keep the expiry on the row: one query
    if model is not None:
        expires = model.objects.filter(session_key=session_key).values_list("expire_date", flat=True).first()
    else:  # other backends return nothing for an expired or deleted session
        expires = store.get_expiry_date() if store.load() else None
    return max((expires - timezone.now()).total_seconds(), 0.0) if expires else 0.0


WALLBOARD_GROUP = "wallboard"
CALL_EVENTS = (
    "offered",
    "ringing",
    "answered",
    "agent_released",
    "ring_stopped",
    "abandoned",
    "timeout",
    "refused",
    "overflowed",
    "transferred",
    "callback",
    "ivr_choice",
    "ended",
)


class Shared:
    """One computation for every console of this process asking within ``max_age`` seconds.

    Ten wallboards on one server would otherwise run the same day-wide queries ten times a second.
    """

    def __init__(self, compute: Callable[[], Any], max_age: float) -> None:
        self.compute, self.max_age = compute, max_age
        self._lock = threading.Lock()
        self._at = -math.inf
        self._value: Any = None

    def __call__(self) -> Any:
        with self._lock:
            if time.monotonic() - self._at > self.max_age:
                self._value, self._at = self.compute(), time.monotonic()
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._at = -math.inf


class ConsoleConsumer(AsyncWebsocketConsumer):
    roles: frozenset[str] = frozenset()
    # Re-render at most this often when hints arrive in bursts (seconds).
    coalesce = 0.5

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close()
            return
        if not self.allowed(user):
            await self.close()
            return
        session = self.scope.get("session")
        if not await database_sync_to_async(twofactor.session_passes)(user, session):
            await self.close()  # a session opened without the second factor its user now needs
            return
        self.user = user
        self.joined = [user_group(user.pk), *self.groups_for(user)]
        self.session_key = session.session_key if session is not None else None
        if self.session_key:
            self.joined.append(session_group(self.session_key))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.language = self._language()
        self.csrf_token = self._csrf_token()
        self._pending: set[str] = set()
        self._flush_task: asyncio.Task | None = None
        await self.accept()
        await self.send(text_data=await self.render("snapshot"))
        if self.session_key:
            self._expiry_task = asyncio.create_task(self._close_when_session_ends())

    def allowed(self, user) -> bool:
        return user.role in self.roles or user.is_superuser

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        for name in ("_flush_task", "_expiry_task"):
            task = getattr(self, name, None)
            if task is not None:
                task.cancel()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Other apps add message types to the groups we share; one we do not know is ignored,
        # not a crash of the console.
        if not hasattr(self, get_handler_name(message)):
            log.debug("%s ignores %s", type(self).__name__, message.get("type"))
            return
        await super().dispatch(message)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """Consoles only listen; actions go over HTTP forms (with CSRF)."""

    async def session_revoked(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_REVOKED)

    async def _close_when_session_ends(self) -> None:
        """An open console ends with its session, at the expiry instant, not at the next reconnect."""
        while True:
            left = await database_sync_to_async(session_seconds_left)(self.session_key)
            if left <= 0:
                await self.close(code=CLOSE_REVOKED)
                return
            # Look again then, not trust the first answer: a session saved since has a later expiry.
            await asyncio.sleep(min(left, EXPIRY_RECHECK))

    # --- rendering ---------------------------------------------------------------------

    def _language(self) -> str:
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
        try:
            return translation.get_supported_language_variant(cookie) if cookie else settings.LANGUAGE_CODE
        except LookupError:
            return settings.LANGUAGE_CODE

    def _csrf_token(self) -> str:
        """Fragments pushed over the socket carry forms: give them a token for the page's CSRF cookie."""
        secret = self.scope.get("cookies", {}).get(settings.CSRF_COOKIE_NAME, "")
        if not secret:
            return ""
        request = HttpRequest()
        request.META["CSRF_COOKIE"] = secret
        return get_token(request)

    def groups_for(self, user) -> list[str]:
        raise NotImplementedError

    def fragments(self, part: str, message: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(template, context) pairs to render for ``part``; runs in a worker thread (ORM allowed)."""
        raise NotImplementedError

    def render_now(self, part: str, message: dict[str, Any] | None = None) -> str:
        with translation.override(self.language):
            return "".join(
                render_to_string(template, {**ctx, "user": self.user, "oob": True, "csrf_token": self.csrf_token})
                for template, ctx in self.fragments(part, message)
            )

    # Parts whose fragments need the database render in the worker thread, one at a time.
    render = database_sync_to_async(render_now)

    async def refresh(self, part: str) -> None:
        """Re-render ``part`` soon; hints arriving meanwhile are folded into one render."""
        self._pending.add(part)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(self.coalesce)
        parts, self._pending = self._pending, set()
        html = "".join([await self.render(part) for part in sorted(parts)])
        if not html:
            return
        try:
            await self.send(text_data=html)
        except OSError:  # the browser left while we rendered (the server raises ClientDisconnected)
            log.debug("console gone before its refresh was sent")


class AgentConsumer(ConsoleConsumer):
    """话务台: the agent's own calls and screen pops only."""

    roles = frozenset({Role.AGENT})

    def allowed(self, user) -> bool:
        return user.role == Role.AGENT  # a console rings one phone: only an agent has one

    # Revisits fall due by the clock, not only on news: the list is re-read this often too (seconds).
    revisit_clock = 60.0

    def groups_for(self, user) -> list[str]:
        return [agent_group(user.pk), AGENTS_GROUP]

    async def connect(self) -> None:
        await super().connect()
        if getattr(self, "user", None) is not None:
            self._clock_task = asyncio.create_task(self._revisit_clock())

    async def disconnect(self, code: int) -> None:
        clock = getattr(self, "_clock_task", None)
        if clock is not None:
            clock.cancel()
        await super().disconnect(code)

    async def _revisit_clock(self) -> None:
        # A random first tick: consoles that connected together (a shift starting, a server restart)
        # must not all re-read at the same second.
        await asyncio.sleep(random.uniform(0, self.revisit_clock))
        while True:
            await self.refresh("revisits")
            await asyncio.sleep(self.revisit_clock)

    def fragments(self, part, message=None):
        if part == "revisits":
            return [("web/agent/_revisits.html", snap.revisits_due(self.user))]
        if part == "pop":
            ctx = snap.pop_context(message)
            ctx["call"] = None
            return [("web/agent/_pop.html", ctx)]
        if part == "call":
            # Answering and hanging up change the state shown too (on a call, then the chosen one).
            ctx = snap.agent_call_context(self.user)
            state = snap.agent_state_panel(self.user, ctx["call"])
            return [("web/agent/_state.html", state), ("web/agent/_pop.html", ctx)]
        if part == "missed":
            return [("web/agent/_missed.html", snap.missed_calls(self.user))]
        ctx = snap.agent_console(self.user)
        return [
            ("web/agent/_state.html", ctx),
            ("web/agent/_pop.html", ctx),
            ("web/agent/_missed.html", ctx),
            ("web/agent/_revisits.html", ctx),
        ]

    async def call_screen_pop(self, message: dict[str, Any]) -> None:
        # The message carries everything the pop shows, so it renders right here in the event loop
        # (no database): it does not queue behind other consoles' renders in the worker thread.
        await self.send(text_data=self.render_now("pop", message))

    async def call_event(self, message: dict[str, Any]) -> None:
        if message.get("type") == "call.ringing":
            # The screen pop sent with it is its rendering. The call's row names the agent only once
            # answered, so a re-render now would read the agent's previous call and put it over the pop.
            return
        await self.refresh("call")
        if message.get("type") in ("call.abandoned", "call.timeout"):
            await self.refresh("missed")

    async def callback_offered(self, message: dict[str, Any]) -> None:
        await self.refresh("missed")

    async def revisit_changed(self, message: dict[str, Any]) -> None:
        await self.refresh("revisits")

    async def revisit_done(self, message: dict[str, Any]) -> None:
        await self.refresh("revisits")

    async def agent_state(self, message: dict[str, Any]) -> None:
        # The bridge found the phone in no queue after a (re)connect and set the row offline.
        await self.refresh("call")


for _kind in CALL_EVENTS:
    setattr(AgentConsumer, f"call_{_kind}", AgentConsumer.call_event)


class UnitConsumer(ConsoleConsumer):
    """承办工作台: the handler's own unit only."""

    roles = frozenset({Role.UNIT_HANDLER})

    def allowed(self, user) -> bool:
        return bool(user.unit_id) and (user.role == Role.UNIT_HANDLER or user.is_superuser)

    def groups_for(self, user) -> list[str]:
        return [unit_group(user.unit_id)]

    def fragments(self, part, message=None):
        return [("web/unit/_inbox.html", snap.unit_inbox(self.user.unit))]

    async def ticket_updated(self, message: dict[str, Any]) -> None:
        await self.refresh("inbox")

    async def ticket_reminder(self, message: dict[str, Any]) -> None:
        await self.refresh("inbox")


class DispatchConsumer(ConsoleConsumer):
    """派单: the center's queue."""

    roles = frozenset({Role.DISPATCHER, Role.SUPERVISOR})

    def groups_for(self, user) -> list[str]:
        return [CENTER_GROUP]

    def fragments(self, part, message=None):
        # The page opened the socket with its own filter and page: re-render that list.
        params = QueryDict(self.scope.get("query_string", b"").decode("latin-1"))
        return [("web/center/_dispatch.html", snap.dispatch_queue(params))]

    async def ticket_updated(self, message: dict[str, Any]) -> None:
        await self.refresh("queue")


class WallboardConsumer(ConsoleConsumer):
    """监控大屏: the live queue from the bridge, today's figures and overdue work from the database."""

    roles = frozenset({Role.SUPERVISOR})
    coalesce = 1.0
    today = Shared(snap.wallboard_today, max_age=coalesce)
    overdue = Shared(snap.overdue_by_unit, max_age=coalesce)
    desks_today = Shared(snap.desks_today, max_age=coalesce)

    def groups_for(self, user) -> list[str]:
        return [WALLBOARD_GROUP, CENTER_GROUP]

    def fragments(self, part, message=None):
        if part == "queues":
            bridge = message.get("bridge") or {}
            context = {
                "queues": message["queues"],
                "from_database": False,
                "bridge_down": bridge.get("connected") is False,
            }
            desks = snap.wallboard_desks(_by_queue(self.__dict__.get("_pictures") or {"": message}), self.desks_today())
            return [("web/center/_queues.html", context), ("web/center/_desks.html", desks)]
        if part == "today":
            pictures = self.__dict__.get("_pictures")
            desks = snap.wallboard_desks(_by_queue(pictures) if pictures else None, self.desks_today())
            return [("web/center/_today.html", self.today()), ("web/center/_desks.html", desks)]
        if part == "overdue":
            return [("web/center/_overdue.html", {"overdue": self.overdue()})]
        if part == "hotspots":
            return [("web/center/_hotspots.html", snap.wallboard_hotspots())]
        ctx = snap.wallboard()
        return [
            ("web/center/_queues.html", ctx),
            ("web/center/_today.html", ctx),
            ("web/center/_overdue.html", ctx),
            ("web/center/_hotspots.html", ctx),
            ("web/center/_desks.html", ctx),
        ]

    async def wallboard_queues(self, message: dict[str, Any]) -> None:
        # One picture per PBX's bridge (AMI_PBXS): shown side by side, not the last one alone.
        pictures = self.__dict__.setdefault("_pictures", {})
        pictures[message.get("pbx", "")] = message
        await self.send(text_data=await self.render("queues", _merge_pictures(pictures)))

    async def call_event(self, message: dict[str, Any]) -> None:
        # Only the events that change today's figures reach the wallboard (telephony.services.WALLBOARD_KINDS).
        await self.refresh("today")

    async def ticket_updated(self, message: dict[str, Any]) -> None:
        await self.refresh("overdue")

    async def hotspot_changed(self, message: dict[str, Any]) -> None:
        """The scan found, grew or ended a hot spot, or one became a supervision case (metrics.hotspots)."""
        await self.refresh("hotspots")


for _kind in CALL_EVENTS:
    setattr(WallboardConsumer, f"call_{_kind}", WallboardConsumer.call_event)


def _merge_pictures(pictures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The wallboard pictures of several PBXs as one: queues named "<pbx> <queue>", down if any bridge is."""
    if len(pictures) == 1:
        return next(iter(pictures.values()))
    queues = {f"{pbx} {name}": queue for pbx, m in sorted(pictures.items()) for name, queue in m["queues"].items()}
    down = [m["bridge"] for m in pictures.values() if (m.get("bridge") or {}).get("connected") is False]
    return {"queues": queues, "bridge": down[0] if down else {"connected": True}}


def _by_queue(pictures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each queue (desk) over every PBX's picture: callers and agents added up, the longest wait of all."""
    out: dict[str, dict[str, Any]] = {}
    for picture in pictures.values():
        for name, queue in (picture.get("queues") or {}).items():
            total = out.setdefault(name, {"waiting": 0, "longest_wait": 0, "agent_counts": {}})
            total["waiting"] += queue.get("waiting", 0)
            total["longest_wait"] = max(total["longest_wait"], queue.get("longest_wait", 0))
            for state, n in (queue.get("agent_counts") or {}).items():
                total["agent_counts"][state] = total["agent_counts"].get(state, 0) + n
    return out
