"""Fixtures for callbacks, revisits and SMS: missed calls, tickets waiting for a revisit, a fake Twilio."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from hotline.models import Role, Ticket, User
from hotline.services import dispatch, tickets
from telephony.models import Call
from tests.conftest import make_user
from tests.factories import dispatched_ticket, lead_assignment, set_presence

# Friday 2026-11-27, 10:00 in Shanghai: inside calling hours, on a working day.
MORNING = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _own_counters(settings):
    """Each test its own throttle and reply counters: a fresh key prefix on the configured cache."""
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}


def missed_call(number: str = "13800138000", at: datetime = MORNING, outcome: str = "abandoned", **extra) -> Call:
    """A call that waited in the queue and was abandoned (or timed out), as the bridge records it."""
    from telephony.services import _caller_for

    linkedid = extra.pop("linkedid", f"{at.timestamp():.0f}.{Call.objects.count()}")
    return Call.objects.create(
        linkedid=linkedid,
        caller_number=number,
        caller=_caller_for(number, ""),
        queue="12345",
        offered_at=at,
        ended_at=at,
        wait_seconds=40,
        outcome=outcome,
        **extra,
    )


def answered_call(number: str, at: datetime) -> Call:
    return missed_call(number, at, outcome="answered", answered_at=at)


def ready(agent: User) -> User:
    set_presence(agent, "ready")
    return agent


@pytest.fixture
def agent2(seeded) -> User:
    """Xiao Chen, a second agent, who competes with Xiao Wang for callbacks."""
    return make_user("agent_chen", Role.AGENT, "XT12345", agent_extension="1002")


def revisit_pending_ticket(agent: User, dispatcher: User, handler: User, **extra) -> Ticket:
    """A complaint dispatched to 雨湖区, replied and approved: waiting for its revisit."""
    ticket = dispatched_ticket(agent, **extra)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, handler)
    dispatch.reply_assignment(assignment, handler, "已联系城管部门现场处理，噪音已停止。")
    tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True)
    ticket.refresh_from_db()
    assert ticket.status == "revisit_pending"
    return ticket


@pytest.fixture
def pending_ticket(agent, dispatcher, yuhu) -> Ticket:
    return revisit_pending_ticket(agent, dispatcher, yuhu)


class FakeTwilio:
    """A local HTTP server answering like Twilio's Messages.json; each test queues the answers it wants."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict]] = []
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                status, body = fake.answers.pop(0) if fake.answers else fake.created(form)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def created(self, form: dict) -> tuple[int, dict]:
        sid = f"SM{len(self.requests):032d}"
        return 201, {
            "sid": sid,
            "account_sid": "AC" + "0" * 32,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Fri, 27 Nov 2026 02:00:00 +0000",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/AC{'0' * 32}/Messages/{sid}.json",
        }

    @staticmethod
    def error(status: int, code: int, message: str) -> tuple[int, dict]:
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio()
    settings.SMS_BACKEND = "callback.sms.twilio_backend.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "test-token-not-a-secret"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_TIMEOUT = 5
    yield fake
    fake.close()


def due_revisit(ticket: Ticket, channel: str | None = None):
    """The ticket's revisit, scheduled a month ago: due now, so staff may record its answer."""
    from datetime import timedelta

    from django.utils import timezone

    from callback import revisits

    return revisits.schedule_revisit(ticket, channel=channel, now=timezone.now() - timedelta(days=30))
