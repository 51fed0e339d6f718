"""The authorization matrix: every URL of the project × every role × own/other unit, as one table.

Each ``Row`` is one URL pattern and one method. ``allow`` names the cells that may use it; every
other cell is refused: 403/404 when logged in, 401 with ``WWW-Authenticate`` on the API and a
redirect to the login page for an anonymous visitor. ``tests/security/test_authz_matrix.py``
walks the table; ``docs/authorization.md`` is rendered from it (``render_markdown``).

Cells. A persona is a role as the demo makes it (``world.PERSONAS``). For a row whose target
belongs to a unit (``bound=True``), each unit handler is asked at several scopes: the level-2
handler (雨湖区) on its own unit's object, on its level-3 street's (``sub``) and on another
district's; the level-3 handler (城正街街道) on its own, on its district's (``up``) and on a sibling
street's. Center staff see every ticket: they are asked once, on 雨湖区's object.

Adding an endpoint: add a row here (the guard test fails until you do), then regenerate the doc
(see docs/authorization.md, "Adding an endpoint").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.conftest import PASSWORD
from tests.security import world as W

# --- who: the cells and the names the table uses for groups of them ----------------------------

CENTER = ("agent", "dispatcher", "supervisor", "admin", "superuser")
# Flag a caller (恶意来电/缠访) and decide on reports: the center's supervisors and admins, never an agent alone.
DECIDERS = ("supervisor", "admin", "superuser")
REVIEWERS = ("dispatcher", "supervisor", "admin", "superuser")
UNIT_CELLS = tuple(f"{p}.{s}" for p in W.UNIT_PERSONAS for s in W.SCOPES[p])
GROUPS: dict[str, tuple[str, ...]] = {
    "everyone": ("anonymous", *CENTER, "auditor", "quality", *UNIT_CELLS, "unit_none"),
    "staff": (*CENTER, "auditor", "quality", *UNIT_CELLS, "unit_none"),  # anyone logged in
    "center": CENTER,
    "reviewers": REVIEWERS,
    "staff_flag": ("dispatcher", "supervisor", "admin", "superuser", "auditor"),  # is_staff, as the demo sets it
    "units": UNIT_CELLS,
    "own": ("unit_l2.own", "unit_l3.own"),
    # The ticket is assigned to the handler's unit or a unit below it.
    "visible": ("unit_l2.own", "unit_l2.sub", "unit_l3.own"),
}

OK, DENIED, LOGIN = "ok", "denied", "login"
# A row whose answer is the same refusal for everyone (a wrong citizen code, WeChat switched off):
# no staff login changes it.
SAME_400, SAME_503 = "status 400", "status 503"
SOFT = "refused on the page"  # 2xx/3xx with the refusal as a message, and nothing changed
HIDDEN = "hidden"  # a list answers, without the target in it


@dataclass(frozen=True)
class Row:
    name: str  # the URL pattern's name, as reverse() knows it
    method: str
    path: str | Callable[[W.Target], str]
    allow: tuple[str, ...]
    target: Callable | None = None  # builds the thing the row acts on: (world, unit, actor) -> Target
    body: Callable[[W.Target, W.World, Any], dict] | None = None
    bound: bool = False  # the target belongs to a unit: ask each unit handler at each scope
    level2_only: bool = False  # the thing exists only at level 2 (revisits, appeals, disputes)
    page: bool = False  # an HTML page (login redirect) rather than the API (401)
    fmt: str = "json"  # json | multipart | form
    effect: bool = True  # a POST: allowed changes the target's state, refused leaves it alone
    fixed: str | None = None  # one outcome for every cell (a page that only redirects)
    soft: tuple[str, ...] = ()  # cells refused by the form with a message rather than a 403
    # A list: ``allow`` names who finds the target in it, ``opens`` who gets the list without it.
    opens: tuple[str, ...] = ()
    # The ids a list answers (default: each result's "id"); on a page, the ticket numbers it shows
    # (default: the number anywhere in the HTML).
    listing: Callable[[Any], list] | None = None
    session: bool = False  # an API row asked with the console's session instead of a token
    label: str = ""  # tells two rows of one pattern and method apart
    note: str = ""

    @property
    def is_list(self) -> bool:
        """A list with a target: who may use it must find the target in it (and the others must not)."""
        return self.target is not None and self.method == "GET" and (bool(self.opens) or self.name.endswith("-list"))

    @property
    def key(self) -> str:
        return f"{self.name} {self.method}{' ' + self.label if self.label else ''}"

    def cells(self) -> list[tuple[str, str]]:
        """(persona, scope) pairs to ask; scope "" for center staff and anonymous, "own" for an unbound row."""
        out = [(p, "") for p in ("anonymous", *CENTER, "auditor", "quality")]
        for persona in W.UNIT_PERSONAS:
            if not self.bound:
                out.append((persona, "own"))
                continue
            for scope in W.SCOPES[persona]:
                if self.level2_only and (persona, scope) in (("unit_l2", "sub"), ("unit_l3", "own")):
                    continue  # a street has no revisit of its own: the district's is "up"
                out.append((persona, scope))
        return [*out, ("unit_none", "")]

    def expected(self, persona: str, scope: str) -> str:
        if self.fixed:
            return self.fixed
        cell = f"{persona}.{scope}" if scope else persona
        if cell in self.soft:
            return SOFT
        if cell in expand(self.allow):
            return OK
        if cell in expand(self.opens):
            return HIDDEN
        return LOGIN if persona == "anonymous" else DENIED


def expand(tokens: tuple[str, ...]) -> set[str]:
    return {cell for token in tokens for cell in GROUPS.get(token, (token,))}


def p(url: str) -> Callable[[W.Target], str]:
    return lambda t: url.format(t=t)


def until_for(t: W.Target) -> str:
    part = t.obj
    later = part.parent.reply_by if part.parent_id else part.reply_by + timedelta(days=7)
    return later.isoformat()


def local_day(moment) -> str:
    return timezone.localtime(moment).date().isoformat()


def other_district(t: W.Target) -> int:
    """A level-2 unit the ticket is not with (reassign needs a new one)."""
    from hotline.models import Unit

    lead = t.obj.assignments.filter(role="lead").exclude(status="withdrawn").first()
    return Unit.objects.exclude(pk=lead.unit_id).get(code__in=["YT", "YH"]).pk


def unit_pk(code: str) -> int:
    from hotline.models import Unit

    return Unit.objects.get(code=code).pk


def credentials(t: W.Target, w: W.World, actor) -> dict:
    return {"username": t.data["username"], "password": PASSWORD}


SMS = "?token=matrix-inbound-token"
TICKET = "/api/v1/tickets/{t.key}/"
ASSIGNMENT = "/api/v1/assignments/{t.key}/"
CONTENT = "小区楼下广场舞音乐太吵，晚上十点后仍未停止。"

API: list[Row] = [
    # --- tokens, docs, the API's root ------------------------------------------------------------
    Row("api-token", "POST", "/api/v1/auth/token/", ("everyone",), W.t_my_tokens, credentials,
        note="credentials, not a session, decide: each persona asks for its own token"),
    Row("api-logout", "POST", "/api/v1/auth/logout/", ("staff",), W.t_my_tokens,
        note="revokes the token the call carries"),
    Row("api-logoutall", "POST", "/api/v1/auth/logoutall/", ("staff",), W.t_my_tokens),
    Row("api-root", "GET", "/api/v1/", ("staff",)),
    Row("schema", "GET", "/api/schema/", ("staff",), note="API_DOCS_PUBLIC=0, as in production"),
    Row("api-docs", "GET", "/api/docs/", ("staff",), page=True, note="the Swagger page sends visitors to log in"),
    # --- reference data ------------------------------------------------------------------------
    Row("unit-list", "GET", "/api/v1/units/", ("staff",)),
    Row("unit-detail", "GET", p("/api/v1/units/{t.key}/"), ("staff",), W.t_unit),
    Row("area-list", "GET", "/api/v1/areas/", ("staff",)),
    Row("area-detail", "GET", p("/api/v1/areas/{t.key}/"), ("staff",), W.t_reference("Area")),
    Row("category-list", "GET", "/api/v1/categories/", ("staff",)),
    Row("category-detail", "GET", p("/api/v1/categories/{t.key}/"), ("staff",), W.t_reference("Category")),
    Row("topic-list", "GET", "/api/v1/topics/", ("staff",)),
    Row("topic-detail", "GET", p("/api/v1/topics/{t.key}/"), ("staff",), W.t_reference("Topic")),
    Row("knowledge-search", "GET", "/api/v1/knowledge/?q=噪音", ("center",)),
    # --- tickets -------------------------------------------------------------------------------
    Row("ticket-list", "GET", "/api/v1/tickets/", ("center", "visible"), W.t_dispatched, bound=True, opens=("units",),
        note="a unit gets its subtree's tickets"),
    Row("ticket-list", "GET", "/api/v1/tickets/?phone=%2B8613800138000", ("center",), label="?phone=",
        note="search by full phone: center only (a unit sees numbers masked)"),
    Row("ticket-list", "POST", "/api/v1/tickets/", ("center",), W.t_new_tickets,
        lambda t, w, a: {"phone": W.new_phone(), "category": "complaint", "content": CONTENT}),
    Row("ticket-detail", "GET", p(TICKET), ("center", "visible"), W.t_dispatched, bound=True),
    Row("ticket-messages", "GET", p(TICKET + "messages/"), ("center",), W.t_dispatched,
        note="every SMS about the ticket, full numbers: the center's"),
    Row("ticket-suggestions", "GET", p(TICKET + "suggestions/"), ("center", "visible"), W.t_dispatched, bound=True),
    Row("ticket-resolve", "POST", p(TICKET + "resolve/"), ("center",), W.t_registered,
        lambda t, w, a: {"text": "已告知市民办理流程。", "version": t.data["version"]}),
    Row("ticket-dispatch-to", "POST", p(TICKET + "dispatch/"), ("center",), W.t_registered,
        lambda t, w, a: {"lead_unit": unit_pk("YH"), "version": t.data["version"]}),
    Row("ticket-transfer-110", "POST", p(TICKET + "transfer-110/"), ("center",), W.t_registered,
        lambda t, w, a: {"reason": "来电人称正在发生斗殴。", "version": t.data["version"]}),
    Row("ticket-merge", "POST", p(TICKET + "merge/"), ("center",), W.t_registered_pair,
        lambda t, w, a: {"into": t.data["into"].number, "version": t.data["version"]}),
    Row("ticket-discard", "POST", p(TICKET + "discard/"), ("reviewers",), W.t_registered,
        lambda t, w, a: {"reason": "空号来电。", "version": t.data["version"]}),
    Row("ticket-restore", "POST", p(TICKET + "restore/"), ("reviewers",), W.t_discarded,
        lambda t, w, a: {"version": t.data["version"]}),
    Row("ticket-reassign", "POST", p(TICKET + "reassign/"), ("reviewers",), W.t_dispatched,
        lambda t, w, a: {"to_unit": other_district(t), "reason": "属地调整。", "version": t.data["version"]},
        bound=True),
    Row("ticket-review", "POST", p(TICKET + "review/"), ("reviewers",), W.t_replied,
        lambda t, w, a: {"decision": "approve", "version": t.data["version"]}, bound=True),
    Row("ticket-close", "POST", p(TICKET + "close/"), ("center",), W.t_revisit_pending,
        lambda t, w, a: {"version": t.data["version"]}, bound=True),
    Row("ticket-reopen", "POST", p(TICKET + "reopen/"), ("reviewers",), W.t_revisit_pending,
        lambda t, w, a: {"reason": "市民反映问题仍未解决。", "version": t.data["version"]}, bound=True),
    Row("ticket-remind", "POST", p(TICKET + "remind/"), ("reviewers",), W.t_supervisable,
        lambda t, w, a: {"note": "请于今日内回复处理进展。"}, bound=True,
        note="催办: the center's reviewers; a unit working on the ticket sees it, and is refused"),
    Row("ticket-attachments", "POST", p(TICKET + "attachments/"), ("center", "visible"), W.t_dispatched,
        lambda t, w, a: {"file": W.png()}, bound=True, fmt="multipart"),
    Row("attachment-file", "GET", p("/api/v1/attachments/{t.key}/"), ("center", "visible"), W.t_attachment,
        bound=True),
    Row("attachment-file", "GET", p("/api/v1/attachments/{t.key}/"), ("center", "visible"), W.t_attachment,
        bound=True, session=True, label="(session)", note="the unit ticket page links here: the session works too"),
    Row("recording-file", "GET", p("/api/v1/recordings/{t.key}/"), ("agent", "supervisor", "quality", "superuser"),
        W.t_recording, note="a call's recording: supervisors, quality checkers and the agent who took the call"),
    Row("recording-file", "GET", p("/api/v1/recordings/{t.key}/"), ("agent", "supervisor", "quality", "superuser"),
        W.t_recording, session=True, label="(session)", note="the ticket page's player uses the session"),
    # --- assignments: a unit's part of a ticket -------------------------------------------------
    Row("assignment-list", "GET", "/api/v1/assignments/", ("center", "visible"), W.t_pending, bound=True,
        opens=("units",)),
    Row("assignment-detail", "GET", p(ASSIGNMENT), ("center", "visible"), W.t_pending, bound=True),
    Row("assignment-accept", "POST", p(ASSIGNMENT + "accept/"), ("superuser", "own"), W.t_pending,
        lambda t, w, a: {"version": t.data["version"]}, bound=True),
    Row("assignment-return-", "POST", p(ASSIGNMENT + "return/"), ("superuser", "own"), W.t_pending,
        lambda t, w, a: {"reason": "不属于本单位职责。", "version": t.data["version"]}, bound=True),
    Row("assignment-sub-dispatch", "POST", p(ASSIGNMENT + "sub-dispatch/"), ("superuser", "unit_l2.own"),
        W.t_accepted, lambda t, w, a: {"to_unit": t.data["child"].pk, "version": t.data["version"]}, bound=True,
        note="only a level-2 unit sub-dispatches, to its own streets"),
    Row("assignment-reply", "POST", p(ASSIGNMENT + "reply/"), ("superuser", "own"), W.t_accepted,
        lambda t, w, a: {"text": "已现场处理。", "version": t.data["version"]}, bound=True),
    Row("assignment-extension", "POST", p(ASSIGNMENT + "extension/"), ("superuser", "own"), W.t_accepted,
        lambda t, w, a: {"until": until_for(t), "reason": "需协调多个部门。", "version": t.data["version"]},
        bound=True),
    Row("assignment-dispute", "POST", p(ASSIGNMENT + "dispute/"), ("superuser", "unit_l2.own"), W.t_pending,
        lambda t, w, a: {"reason": "该路段不属本区。", "version": t.data["version"]}, bound=True,
        note="a street returns its part to its district instead"),
    Row("extension-list", "GET", "/api/v1/extensions/", ("center", "visible"), W.t_extension, bound=True,
        opens=("units",)),
    Row("extension-decide", "POST", p("/api/v1/extensions/{t.key}/decide/"), ("reviewers", "unit_l2.sub"),
        W.t_extension, lambda t, w, a: {"approve": True}, bound=True,
        note="the center decides a district's request, the district its streets'"),
    Row("dispute-list", "GET", "/api/v1/disputes/", ("center", "unit_l2.own"), W.t_dispute, bound=True,
        level2_only=True, opens=("units",)),
    Row("dispute-decide", "POST", p("/api/v1/disputes/{t.key}/decide/"), ("reviewers",), W.t_dispute,
        lambda t, w, a: {"note": "维持原派单。"}, bound=True, level2_only=True),
    # --- 督办件: supervision cases -------------------------------------------------------------
    Row("supervision-case-list", "GET", "/api/v1/supervision-cases/", ("center", "visible"), W.t_case, bound=True,
        opens=("units",), note="a unit gets the cases on the tickets it can see"),
    Row("supervision-case-list", "POST", "/api/v1/supervision-cases/", ("reviewers",), W.t_supervisable,
        lambda t, w, a: {"tickets": [t.data["number"]], "form": "written", "reason": "群众反复投诉。",
                         "due_by": (timezone.now() + timedelta(days=5)).isoformat()}),
    Row("supervision-case-detail", "GET", p("/api/v1/supervision-cases/{t.key}/"), ("center", "visible"), W.t_case,
        bound=True),
    Row("supervision-case-notes", "POST", p("/api/v1/supervision-cases/{t.key}/notes/"), ("reviewers",), W.t_case,
        lambda t, w, a: {"text": "已电话督促，单位承诺周五前办结。"}, bound=True,
        note="a unit reads its cases, and never notes or closes one"),
    Row("supervision-case-close", "POST", p("/api/v1/supervision-cases/{t.key}/close/"), ("reviewers",), W.t_case,
        lambda t, w, a: {"outcome": "solved", "result": "已办结，市民认可。"}, bound=True),
    # --- 恶意来电/缠访: callers under review --------------------------------------------------------
    Row("caller-list", "GET", "/api/v1/callers/", DECIDERS, W.t_reported_caller,
        note="the callers waiting for the center's review; an agent reports, and never reads this list"),
    Row("caller-detail", "GET", p("/api/v1/callers/{t.key}/"), DECIDERS, W.t_reported_caller),
    Row("caller-flag", "POST", p("/api/v1/callers/{t.key}/flag/"), DECIDERS, W.t_reported_caller,
        lambda t, w, a: {"kind": "abuse", "reason": "多次辱骂话务员。",
                         "expires_at": (timezone.now() + timedelta(days=30)).isoformat()}),
    Row("caller-lift", "POST", p("/api/v1/callers/{t.key}/lift/"), DECIDERS, W.t_flagged_caller,
        lambda t, w, a: {"reason": "来电人已道歉。"}),
    Row("caller-decline", "POST", p("/api/v1/callers/{t.key}/decline/"), DECIDERS, W.t_reported_caller,
        lambda t, w, a: {"reason": "情绪激动，非恶意。"}),
    Row("caller-reports", "POST", p("/api/v1/callers/{t.key}/reports/"), ("center",), W.t_caller,
        lambda t, w, a: {"ticket": t.data["number"], "note": "辱骂话务员。"},
        note="any of the center's staff reports a caller; only the center's deciders flag"),
    # --- calls, callbacks, agent state (the center's) -------------------------------------------
    Row("agent-state", "GET", "/api/v1/agent-state/", ("center",)),
    Row("agent-state", "POST", "/api/v1/agent-state/", ("center",), W.t_agent_state,
        lambda t, w, a: {"status": "paused", "reason": "break"}),
    Row("call-list", "GET", "/api/v1/calls/", ("center",), W.t_call),
    Row("call-detail", "GET", p("/api/v1/calls/{t.key}/"), ("center",), W.t_call),
    Row("callback-list", "GET", "/api/v1/callbacks/", ("center",), W.t_due_callback),
    Row("callback-detail", "GET", p("/api/v1/callbacks/{t.key}/"), ("center",), W.t_due_callback),
    Row("callback-next", "POST", "/api/v1/callbacks/next/", ("center",), W.t_due_callback),
    Row("callback-accept", "POST", p("/api/v1/callbacks/{t.key}/accept/"), ("center",), W.t_offered_callback),
    Row("callback-decline", "POST", p("/api/v1/callbacks/{t.key}/decline/"), ("center",), W.t_offered_callback),
    Row("callback-dial", "POST", p("/api/v1/callbacks/{t.key}/dial/"), ("center",), W.t_due_callback),
    Row("callback-complete", "POST", p("/api/v1/callbacks/{t.key}/complete/"), ("center",), W.t_dialling_callback,
        lambda t, w, a: {"outcome": "reached"}),
    Row("callback-dial-number", "POST", "/api/v1/callbacks/dial/", ("center",), W.t_new_callbacks,
        lambda t, w, a: {"number": W.new_phone()}),
    # --- revisits and appeals -------------------------------------------------------------------
    Row("revisit-list", "GET", "/api/v1/revisits/", ("center", "unit_l2.own"), W.t_due_revisit, bound=True,
        level2_only=True, opens=("units", "unit_none", "auditor", "quality"),
        note="center staff: theirs and the due ones; a unit: its own unit's"),
    Row("revisit-detail", "GET", p("/api/v1/revisits/{t.key}/"), ("center", "unit_l2.own"), W.t_due_revisit,
        bound=True, level2_only=True, note="a unit sees its own unit's revisits, phone masked"),
    Row("revisit-claim", "POST", p("/api/v1/revisits/{t.key}/claim/"), ("center",), W.t_due_revisit,
        bound=True, level2_only=True),
    Row("revisit-dial", "POST", p("/api/v1/revisits/{t.key}/dial/"), ("center",), W.t_due_revisit,
        bound=True, level2_only=True),
    Row("revisit-result", "POST", p("/api/v1/revisits/{t.key}/result/"), ("center",), W.t_claimed_revisit,
        lambda t, w, a: {"rating": "satisfied", "solved": True}, bound=True, level2_only=True),
    Row("revisit-appeal", "POST", p("/api/v1/revisits/{t.key}/appeal/"), ("unit_l2.own",),
        W.t_unsatisfied_revisit, lambda t, w, a: {"reason": "夜间施工系特许作业。"}, bound=True, level2_only=True,
        note="only the rated unit appeals"),
    Row("revisit-appeal-list", "GET", "/api/v1/revisit-appeals/", ("center", "unit_l2.own"), W.t_appeal, bound=True,
        level2_only=True, opens=("units", "unit_none", "auditor", "quality")),
    Row("revisit-appeal-detail", "GET", p("/api/v1/revisit-appeals/{t.key}/"), ("center", "unit_l2.own"),
        W.t_appeal, bound=True, level2_only=True),
    Row("revisit-appeal-decide", "POST", p("/api/v1/revisit-appeals/{t.key}/decide/"), ("reviewers",), W.t_appeal,
        lambda t, w, a: {"grant": True, "note": "属实。"}, bound=True, level2_only=True),
    # --- metrics -------------------------------------------------------------------------------
    Row("metrics-kpis", "GET", p("/api/v1/metrics/kpis/?unit={t.key}"), ("center", "visible"), W.t_unit, bound=True,
        note="a unit sees its own and its subtree's figures"),
    Row("metrics-kpi-ranking", "GET", "/api/v1/metrics/kpis/units/", ("center", "visible"), W.t_unit, bound=True,
        opens=("units",), listing=lambda body: [row["unit"]["id"] for row in body["units"]],
        note="every unit's row for the center; a unit gets the rows of its subtree"),
    Row("metrics-scores", "GET", "/api/v1/metrics/scores/?scheme=jiesu-jiban", ("center", "visible"), W.t_unit,
        bound=True, opens=("units",), listing=lambda body: [row["unit"] for row in body["units"]],
        note="a unit gets its subtree's rows"),
    Row("metrics-callcenter", "GET", "/api/v1/metrics/callcenter/", ("center",)),
    Row("metrics-staffing", "GET", "/api/v1/metrics/staffing/", ("center",)),
    # --- citizens and the SMS provider (no staff login) -----------------------------------------
    Row("public-ticket", "GET", p("/api/v1/public/tickets/{t.key}/?code={t.data[code]}"), ("everyone",),
        W.t_public_ticket, note="the query code is the key"),
    Row("public-resend-code", "POST", p("/api/v1/public/tickets/{t.key}/resend-code/"), ("everyone",),
        W.t_public_ticket, lambda t, w, a: {"phone": t.data["phone"]}, effect=False),
    # "My tickets" (docs/citizens.md): the citizen's own SMS code and token decide, never a staff
    # login — a staff session or API token opens nothing here.
    Row("public-otp", "POST", "/api/v1/public/otp/", ("everyone",), None,
        lambda t, w, a: {"phone": W.new_phone()}, effect=False, note="sends a code to that phone"),
    Row("public-otp-verify", "POST", "/api/v1/public/otp/verify/", (), None,
        lambda t, w, a: {"phone": "13800138000", "code": "000000"}, effect=False, fixed=SAME_400,
        note="a wrong code is the same 400 for everyone, staff included"),
    Row("public-my-tickets", "GET", "/api/v1/public/my-tickets/", (), fixed=LOGIN,
        note="the citizen token only: 401 for every staff login"),
    Row("public-my-ticket", "GET", p("/api/v1/public/my-tickets/{t.key}/"), (), W.t_public_ticket, fixed=LOGIN,
        note="the citizen token only"),
    Row("sms-inbound", "POST", "/api/v1/sms/inbound/" + SMS, ("everyone",), None,
        lambda t, w, a: {"From": "+8613800138000", "Body": "1"}, fmt="form",
        note="the provider's signature or shared token decides, not a role"),
    Row("sms-status", "POST", "/api/v1/sms/status/" + SMS, ("everyone",), None,
        lambda t, w, a: {"MessageSid": "SM0", "MessageStatus": "delivered"}, fmt="form"),
    Row("revisit-survey", "POST", p("/api/v1/survey/{t.key}/"), ("everyone",), W.t_sms_revisit,
        lambda t, w, a: {"digit": "1"}, note="the survey link's token is the key"),
    # --- Open311 GeoReport v2 (docs/open311.md): public reads; a post needs a system's api_key -------
    Row("open311-discovery", "GET", "/open311/v2/discovery.json", ("everyone",)),
    Row("open311-services", "GET", "/open311/v2/services.xml", ("everyone",)),
    Row("open311-service", "GET", "/open311/v2/services/0201.json", ("everyone",)),
    Row("open311-requests", "GET", "/open311/v2/requests.json", ("everyone",), W.t_open311_request,
        note="only tickets posted through Open311 (or published); no personal data"),
    Row("open311-requests", "POST", "/open311/v2/requests.json", (), None,
        lambda t, w, a: {"service_code": "0203", "address_string": "x", "description": "x", "phone": "13800138000"},
        fmt="form", effect=False, fixed=DENIED,
        note="the api_key of an integrating system decides, never a login: 403 for every cell without one"),
    Row("open311-request", "GET", p("/open311/v2/requests/{t.key}.xml"), ("everyone",), W.t_open311_request),
    Row("open311-token", "GET", p("/open311/v2/tokens/{t.data[token]}.json"), ("everyone",), W.t_open311_request,
        note="the token is the key"),
    # --- 110 → 12345 (docs/referrals-110.md): a 110 platform's own key, never a login -----------------
    Row("referrals110", "POST", "/api/110/v1/referrals", (), None,
        lambda t, w, a: {"incident_number": "M1", "matter": "nuo_che", "content": "x", "phone": "13800138000"},
        effect=False, fixed=LOGIN, note="a 110 system's API key decides: 401 for every cell without one"),
    Row("referral110", "GET", "/api/110/v1/referrals/M1", (), fixed=LOGIN,
        note="a 110 system's API key; a system reads only its own incidents"),
    Row("referrals110-matters", "GET", "/api/110/v1/matters", (), fixed=LOGIN, note="a 110 system's API key"),
]  # fmt: skip

AGENT = ("agent", "superuser")
UNIT_SCREEN = ("superuser", "units")
DISPATCH_SCREEN = ("dispatcher", "supervisor", "superuser")
DASHBOARD = ("dispatcher", "supervisor", "admin", "superuser")


def page(*args, **kwargs) -> Row:
    return Row(*args, page=True, fmt="form", **kwargs)


def register_form(t, w, a) -> dict:
    from hotline.models import Category

    return {
        "phone": W.new_phone(),
        "category": Category.objects.get(code="complaint").pk,
        "content": CONTENT,
        "urgency": "normal",
        "form_token": f"matrix-{W.new_phone()}",
    }


def case_form() -> dict:
    """A valid 督办 form: the demanded deadline in five days, the responsible unit left to the ticket."""
    return {
        "form": "written",
        "reason": "群众反复投诉，久拖未决。",
        "due_by": local_day(timezone.now() + timedelta(days=5)),
        "title": "",
        "unit": "",
        "leader_name": "",
    }


def quality_scores(t, w, a) -> dict:
    """Every registration item scored 8."""
    from metrics.models import ChecklistItem

    return {
        f"score_{pk}": "8" for pk in ChecklistItem.objects.filter(target="registration").values_list("pk", flat=True)
    }


def result_numbers(response) -> list[str]:
    """The ticket numbers of the search page's result rows (the search box's example is no result)."""
    import re

    return re.findall(r'<tr data-testid="search-row"><td><a [^>]*><strong>([^<]+)</strong>', response.content.decode())


def workbook_numbers(response) -> list[str]:
    """The ticket numbers of an exported workbook (its first column)."""
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content), read_only=True).active
    return [str(row[0]) for row in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]


PAGES: list[Row] = [
    # --- logging in and out --------------------------------------------------------------------
    page("web:home", "GET", "/", ("staff",), note="each role is sent to its own screen"),
    page("web:login", "GET", "/login/", ("everyone",)),
    page("web:login", "POST", "/login/", ("everyone",), W.t_my_tokens, credentials, effect=False),
    page("web:login-verify", "GET", "/login/verify/", (), fixed=LOGIN,
         note="only between the password and the code; without a pending login, back to the login page"),
    page("web:login-verify", "POST", "/login/verify/", (), lambda w, u, a: W.Target(), lambda t, w, a: {"otp": "1"},
         fixed=LOGIN, effect=False),
    page("web:login-enrol", "GET", "/login/enrol/", ("staff",), note="anyone may add an authenticator app"),
    page("web:login-enrol", "POST", "/login/enrol/", ("staff",), W.t_pending_device,
         lambda t, w, a: {"otp": t.data["otp"]}),
    page("web:logout", "POST", "/logout/", (), fixed=LOGIN, effect=False, note="everyone ends on the login page"),
    page("set_language", "POST", "/i18n/setlang/", ("everyone",), None, lambda t, w, a: {"language": "en"},
         effect=False),
    page("admin:index", "GET", "/admin/", ("staff_flag",),
         note="stands for every admin page: Django's admin checks is_staff, then each model's permissions"),
    # --- 话务台: the agent console -----------------------------------------------------------
    page("web:agent", "GET", "/agent/", AGENT),
    page("web:agent-state", "GET", "/agent/state/", AGENT),
    page("web:agent-state", "POST", "/agent/state/", AGENT, W.t_agent_state,
         lambda t, w, a: {"state": "paused", "reason": "break"}),
    page("web:agent-wrapup", "POST", "/agent/wrapup/", AGENT, W.t_wrapup_call,
         lambda t, w, a: {"call": t.key, "code": "answered"}),
    page("web:agent-register-form", "GET", "/agent/register/", AGENT),
    page("web:agent-knowledge", "GET", "/agent/knowledge/?q=噪音", AGENT),
    page("web:agent-script", "GET", "/agent/script/?category=1&topic=2", AGENT),
    page("web:agent-knowledge-used", "POST", p("/agent/knowledge/{t.key}/used/"), AGENT, W.t_article),
    page("web:agent-knowledge-feedback", "POST", p("/agent/knowledge/{t.key}/feedback/"), AGENT, W.t_article,
         lambda t, w, a: {"useful": "1"}),
    page("web:agent-register", "POST", "/agent/register/submit/", AGENT, W.t_new_tickets, register_form),
    page("web:agent-dispatch", "POST", p("/agent/tickets/{t.key}/dispatch/"), AGENT, W.t_registered,
         lambda t, w, a: {"unit": unit_pk("YH"), "version": t.data["version"]}),
    page("web:agent-merge", "POST", p("/agent/tickets/{t.key}/merge/"), AGENT, W.t_registered_pair,
         lambda t, w, a: {"into": t.data["into"].pk, "version": t.data["version"]}),
    page("web:agent-transfer-110", "POST", "/agent/transfer-110/", AGENT, W.t_current_call,
         lambda t, w, a: {"reason": "来电人称正在发生斗殴。", "ticket": t.data["ticket"].pk}),
    page("web:agent-from-110", "POST", "/agent/from-110/", AGENT, None,
         lambda t, w, a: {"system": "0", "incident_number": "M1", "matter": "nuo_che"}, effect=False,
         note="110转来: registers a 110 transfer as a ticket of channel 110"),
    page("web:agent-expert", "POST", "/agent/expert/", AGENT, W.t_current_call,
         lambda t, w, a: {"unit": unit_pk("YH")}, effect=False,
         note="the phone system dials the unit's duty phone into the call; nothing is written"),
    page("web:agent-resolve-with-unit", "POST", p("/agent/tickets/{t.key}/resolve-with-unit/"), AGENT,
         W.t_registered, lambda t, w, a: {"unit": unit_pk("YH"), "answer": "区住建局答复：已安排检修。",
                                          "version": t.data["version"]}),
    page("web:agent-hang-up", "POST", "/agent/hang-up/", AGENT, W.t_current_call, effect=False,
         note="the phone system hangs up; the call ends when the bridge sees it"),
    page("web:agent-stop-recording", "POST", "/agent/stop-recording/", AGENT, W.t_current_call, effect=False,
         note="the caller asked not to be recorded: the phone system stops recording"),
    page("web:agent-call-hold", "POST", "/agent/call/hold/", AGENT, W.t_current_call,
         lambda t, w, a: {"held": "1"}, effect=False,
         note="the phone system puts the caller on hold; the call's row says so once the PBX reported it"),
    page("web:agent-call-mute", "POST", "/agent/call/mute/", AGENT, W.t_current_call,
         lambda t, w, a: {"muted": "1"}, effect=False,
         note="the phone system mutes the agent's microphone toward the caller"),
    page("web:agent-call-transfer", "POST", "/agent/call/transfer/", AGENT, W.t_current_call,
         lambda t, w, a: {"unit": unit_pk("YH"), "mode": "consult"}, effect=False,
         note="consult or blind transfer to a unit's duty phone or an extension"),
    page("web:agent-call-transfer-end", "POST", "/agent/call/transfer/end/", AGENT, W.t_current_call,
         lambda t, w, a: {"how": "cancel"}, effect=False,
         note="completes or cancels the agent's consult transfer"),
    page("web:agent-report-caller", "POST", "/agent/report-caller/", AGENT, W.t_call_to_report,
         lambda t, w, a: {"linkedid": t.data["linkedid"], "note": "辱骂话务员。"},
         note="a report for the center's review, never a flag"),
    page("web:agent-call-back", "POST", p("/agent/callbacks/{t.key}/dial/"), AGENT, W.t_due_callback),
    page("web:agent-callback-done", "POST", p("/agent/callbacks/{t.key}/done/"), AGENT, W.t_dialling_callback,
         lambda t, w, a: {"outcome": "reached"}),
    page("web:agent-revisit-dial", "POST", p("/agent/revisits/{t.key}/dial/"), AGENT, W.t_due_revisit),
    page("web:agent-revisit-result", "POST", p("/agent/revisits/{t.key}/result/"), AGENT, W.t_claimed_revisit,
         lambda t, w, a: {"rating": "satisfied", "solved": "yes"}),
    # --- 承办工作台: the unit workbench --------------------------------------------------------
    page("web:workbench", "GET", "/unit/", ("visible",), W.t_dispatched, bound=True, opens=UNIT_SCREEN,
         note="the inbox lists the unit's own open parts"),
    page("web:unit-ticket", "GET", p("/unit/tickets/{t.key}/"), ("superuser", "visible"), W.t_dispatched,
         bound=True),
    page("web:unit-accept", "POST", p("/unit/assignments/{t.key}/accept/"), ("superuser", "own"), W.t_pending,
         bound=True),
    page("web:unit-return", "POST", p("/unit/assignments/{t.key}/return/"), ("superuser", "own"), W.t_pending,
         lambda t, w, a: {"reason": "不属于本单位职责。"}, bound=True),
    page("web:unit-sub-dispatch", "POST", p("/unit/assignments/{t.key}/sub-dispatch/"), ("unit_l2.own",),
         W.t_accepted,
         lambda t, w, a: {"to_unit": t.data["child"].pk, "reply_by": local_day(t.data["reply_by"] - timedelta(1))},
         bound=True, soft=("superuser", "unit_l3.own"),
         note="the form offers the handler's own streets: a street and a superuser have none"),
    page("web:unit-reply", "POST", p("/unit/assignments/{t.key}/reply/"), ("superuser", "own"), W.t_accepted,
         lambda t, w, a: {"text": "已现场处理。"}, bound=True),
    page("web:unit-extension", "POST", p("/unit/assignments/{t.key}/extension/"), ("superuser", "own"), W.t_accepted,
         lambda t, w, a: {"until": until_for(t)[:10], "reason": "需协调多个部门。"}, bound=True),
    page("web:unit-dispute", "POST", p("/unit/assignments/{t.key}/dispute/"), ("superuser", "unit_l2.own"),
         W.t_pending, lambda t, w, a: {"reason": "该路段不属本区。"}, bound=True, soft=("unit_l3.own",),
         note="a street returns its part to its district instead (the page offers it no dispute)"),
    # --- 知识库: units propose, the center reviews -------------------------------------------------
    page("web:unit-knowledge", "GET", "/unit/knowledge/", UNIT_SCREEN, note="a unit's own articles and proposals"),
    page("web:unit-knowledge-propose", "POST", "/unit/knowledge/propose/", UNIT_SCREEN, W.t_proposals,
         lambda t, w, a: {"title": "居住证新规", "body": "按新规办理。", "source": "公安局公告",
                          "valid_from": local_day(timezone.now()), "reason": "政策调整"}),
    page("web:knowledge", "GET", "/knowledge/", ("reviewers",)),
    page("web:knowledge-decide", "POST", p("/knowledge/proposals/{t.key}/decide/"), ("reviewers",), W.t_proposal,
         lambda t, w, a: {"decision": "accept", "note": ""}),
    page("web:knowledge-move", "POST", p("/knowledge/articles/{t.key}/move/"), ("reviewers",), W.t_draft_article,
         lambda t, w, a: {"state": "reviewed", "note": ""}),
    # --- 派单 and 监控大屏 ----------------------------------------------------------------------
    page("web:dispatch", "GET", "/dispatch/", DISPATCH_SCREEN),
    page("web:center-dispatch", "POST", p("/dispatch/tickets/{t.key}/dispatch/"), DISPATCH_SCREEN, W.t_registered,
         lambda t, w, a: {"unit": unit_pk("YH")}),
    page("web:center-review", "POST", p("/dispatch/tickets/{t.key}/review/"), DISPATCH_SCREEN, W.t_replied,
         lambda t, w, a: {"approve": "on"}),
    page("web:center-extension", "POST", p("/dispatch/extensions/{t.key}/decide/"), DISPATCH_SCREEN, W.t_extension,
         lambda t, w, a: {"approve": "on"}),
    page("web:center-dispute", "POST", p("/dispatch/disputes/{t.key}/decide/"), DISPATCH_SCREEN, W.t_dispute,
         lambda t, w, a: {"note": "维持原派单。"}),
    page("web:wallboard", "GET", "/wallboard/", ("supervisor", "superuser")),
    # --- the center's ticket page ------------------------------------------------------------------
    page("web:ticket", "GET", p("/tickets/{t.key}/"), ("center", "quality"), W.t_dispatched,
         note="a quality checker reads it (caller masked) to judge a registration and hear its call"),
    page("web:ticket-dispatch", "POST", p("/tickets/{t.key}/dispatch/"), ("center",), W.t_registered,
         lambda t, w, a: {"lead": unit_pk("YH")}),
    page("web:ticket-reassign", "POST", p("/tickets/{t.key}/reassign/"), ("reviewers",), W.t_dispatched,
         lambda t, w, a: {"to_unit": other_district(t), "reason": "属地调整。"}, soft=("agent",),
         note="the page is the center's; the agent's refusal comes from the service, as a message"),
    page("web:ticket-close", "POST", p("/tickets/{t.key}/close/"), ("center",), W.t_revisit_pending),
    page("web:ticket-reopen", "POST", p("/tickets/{t.key}/reopen/"), ("reviewers",), W.t_revisit_pending,
         lambda t, w, a: {"reason": "市民反映问题仍未解决。"}, soft=("agent",)),
    page("web:ticket-merge", "POST", p("/tickets/{t.key}/merge/"), ("center",), W.t_registered_pair,
         lambda t, w, a: {"into": t.data["into"].number}),
    page("web:ticket-discard", "POST", p("/tickets/{t.key}/discard/"), ("reviewers",), W.t_registered,
         lambda t, w, a: {"reason": "空号来电。"}, soft=("agent",)),
    page("web:ticket-restore", "POST", p("/tickets/{t.key}/restore/"), ("reviewers",), W.t_discarded,
         soft=("agent",)),
    page("web:ticket-remind", "POST", p("/tickets/{t.key}/remind/"), ("reviewers",), W.t_supervisable,
         lambda t, w, a: {"note": "请于今日内回复处理进展。"}, soft=("agent",)),
    page("web:ticket-supervise", "POST", p("/tickets/{t.key}/supervise/"), ("reviewers",), W.t_supervisable,
         lambda t, w, a: case_form(), soft=("agent",)),
    # --- 办件公开: publishing closed tickets, and the public case library --------------------------
    page("web:ticket-publish", "GET", p("/tickets/{t.key}/publish/"), ("reviewers",), W.t_closed_consented,
         note="the original beside the redaction: center reviewers only"),
    page("web:ticket-publish", "POST", p("/tickets/{t.key}/publish/"), ("reviewers",), W.t_closed_consented,
         lambda t, w, a: t.data["texts"]),
    page("web:case-withdraw", "POST", p("/cases/{t.key}/withdraw/"), ("reviewers",), W.t_published_case,
         lambda t, w, a: {"reason": "市民要求撤回。"}),
    page("web:cases", "GET", "/cases/?q=噪音", ("everyone",), note="published texts only: no login"),
    page("web:cases-pending", "GET", "/cases/pending/", ("reviewers",),
         note="closed, consented tickets not yet published, with their original titles"),
    page("web:case", "GET", p("/cases/{t.key}/"), ("everyone",), W.t_published_case),
    # --- 督办: supervision cases ------------------------------------------------------------------
    page("web:supervision", "GET", "/supervision/", ("reviewers",)),
    page("web:supervision-open", "POST", "/supervision/open/", ("reviewers",), W.t_supervisable,
         lambda t, w, a: {**case_form(), "numbers": t.data["number"]}),
    page("web:supervision-excel", "GET", "/supervision/excel/", ("reviewers",),
         note="every case of the city: center reviewers only"),
    page("web:supervision-case", "GET", p("/supervision/{t.key}/"), ("reviewers",), W.t_case, bound=True),
    page("web:supervision-note", "POST", p("/supervision/{t.key}/note/"), ("reviewers",), W.t_case,
         lambda t, w, a: {"text": "已电话督促，单位承诺周五前办结。"}, bound=True),
    page("web:supervision-close", "POST", p("/supervision/{t.key}/close/"), ("reviewers",), W.t_case,
         lambda t, w, a: {"outcome": "solved", "result": "已办结，市民认可。"}, bound=True),
    # --- 待审核: public reports held as possible spam/abuse ------------------------------------------
    page("web:held", "GET", "/dispatch/held/", ("reviewers",), W.t_held,
         note="held reports with masked phones: the center's reviewers (who also discard tickets)"),
    page("web:held-release", "POST", p("/dispatch/held/{t.key}/release/"), ("reviewers",), W.t_held,
         lambda t, w, a: {"note": ""}),
    page("web:held-spam", "POST", p("/dispatch/held/{t.key}/spam/"), ("reviewers",), W.t_held,
         lambda t, w, a: {"note": "广告刷屏。", "block_days": "7"}),
    # --- 恶意来电/缠访: the center's review of callers ----------------------------------------------
    page("web:callers", "GET", "/callers/", DECIDERS),
    page("web:referrals110-report", "GET", "/referrals-110/", (*DISPATCH_SCREEN, "admin"),
         note="12345↔110 referrals per month and matter; incident numbers and ticket numbers, no citizen data"),
    page("web:caller", "GET", p("/callers/{t.key}/"), DECIDERS, W.t_reported_caller),
    page("web:caller-flag", "POST", p("/callers/{t.key}/flag/"), DECIDERS, W.t_reported_caller,
         lambda t, w, a: {"kind": "abuse", "reason": "多次辱骂话务员。",
                          "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat()}),
    page("web:caller-lift", "POST", p("/callers/{t.key}/lift/"), DECIDERS, W.t_flagged_caller,
         lambda t, w, a: {"reason": "来电人已道歉。"}),
    page("web:caller-decline", "POST", p("/callers/{t.key}/decline/"), DECIDERS, W.t_reported_caller,
         lambda t, w, a: {"note": "情绪激动，非恶意。"}),
    # --- 工单查询: the search -----------------------------------------------------------------------
    page("web:search", "GET", "/search/", ("center", "visible"), W.t_dispatched, bound=True, opens=("units",),
         listing=result_numbers, note="the center searches every ticket, a unit its subtree's"),
    page("web:search-export", "GET", "/search/export/", ("center", "visible"), W.t_dispatched, bound=True,
         opens=("units",), listing=workbook_numbers, note="the same tickets as the search, as a workbook"),
    # --- 考核看板 -------------------------------------------------------------------------------
    page("web:dashboard", "GET", p("/dashboard/?unit={t.key}"), (*DASHBOARD, "visible"), W.t_unit, bound=True),
    page("web:dashboard-drill", "GET", p("/dashboard/drill/on_time_rate/?part=numerator&unit={t.key}"),
         (*DASHBOARD, "visible"), W.t_unit, bound=True),
    page("web:audit", "GET", "/audit/", ("auditor",), note="the auditor only: not even a superuser"),
    page("web:dashboard-excel", "GET", "/dashboard/excel/", ("reviewers",),
         note="the workbook has every unit: center reviewers only"),
    # --- 工单质检: quality checks ---------------------------------------------------------------------
    page("web:quality", "GET", "/quality/", ("quality", "agent", "reviewers", "units"),
         note="a checker's checks to do; an agent's, a unit's own results; every result for the center's reviewers"),
    page("web:quality-check", "GET", p("/quality/checks/{t.key}/"), ("quality", "reviewers", "visible"),
         W.t_quality_reply, bound=True, note="a unit reads the checks of its subtree's replies, an agent its own"),
    page("web:quality-score", "POST", p("/quality/checks/{t.key}/score/"), ("quality",), W.t_quality_registration,
         quality_scores, note="the quality role only: not even a superuser"),
    page("web:quality-excel", "GET", "/quality/excel/", ("quality", "reviewers"),
         note="every agent's and unit's results: the center's"),
    page("web:hotspot-supervise", "POST", p("/dashboard/hotspots/{t.key}/supervise/"), ("reviewers",), W.t_hotspot,
         note="热点 → 专题督办 in one step: center reviewers only"),
    # --- 市民: the citizens' pages (no login) -----------------------------------------------------
    page("web:track", "GET", "/track/", ("everyone",)),
    page("web:track", "POST", "/track/", ("everyone",), W.t_public_ticket,
         lambda t, w, a: {"n": t.key, "c": t.data["code"]}, effect=False),
    page("web:track-short", "GET", p("/t/{t.key}?c={t.data[code]}"), ("everyone",), W.t_public_ticket),
    page("web:track-forgot", "GET", "/track/forgot/", ("everyone",)),
    page("web:track-forgot", "POST", "/track/forgot/", ("everyone",), W.t_public_ticket,
         lambda t, w, a: {"n": t.key, "phone": t.data["phone"]}, effect=False),
    page("web:track-text-size", "POST", "/track/text-size/", ("everyone",), None, lambda t, w, a: {"large": "1"},
         effect=False),
    page("web:track-mine", "GET", "/track/mine/", ("everyone",)),
    page("web:track-mine", "POST", "/track/mine/", ("everyone",), None, lambda t, w, a: {"phone": W.new_phone()},
         effect=False, note="sends a code to that phone"),
    page("web:track-mine-verify", "POST", "/track/mine/verify/", (), None,
         lambda t, w, a: {"phone": "13800138000", "code": "000000"}, effect=False, fixed=SAME_400,
         note="a wrong code: the form again with the error (400), for everyone"),
    page("web:track-mine-leave", "POST", "/track/mine/leave/", ("everyone",), effect=False),
    page("web:track-mine-ticket", "GET", p("/track/mine/{t.key}/"), ("everyone",), W.t_public_ticket,
         note="without the citizen's session: back to the phone form, nothing shown"),
    # 随手拍 (/report/): anonymous; filing needs the phone's SMS code (a wrong one: the form again, 400).
    page("web:report", "GET", "/report/", ("everyone",)),
    page("captcha-image", "GET", p("/captcha/image/{t.key}/"), ("everyone",), W.t_captcha,
         note="the CAPTCHA's picture /report/ shows after suspicious volume: no login"),
    page("captcha-audio", "GET", p("/captcha/audio/{t.key}.wav"), (), W.t_captcha, fixed=DENIED,
         note="the letters spoken only with CAPTCHA_FLITE_PATH (the flite binary); off by default: 404"),
    page("web:report", "POST", "/report/", (), None,
         lambda t, w, a: {"category": "complaint", "content": "路灯不亮", "phone": "13800138000", "code": "000000"},
         effect=False, fixed=SAME_400, note="a wrong code: the form again with the error and what was typed (400)"),
    # WeChat's server and menu: WeChat's signature and OAuth decide; off without its settings (503).
    page("web:wechat", "GET", "/wechat/", (), fixed=SAME_503, note="off: WECHAT_* unset"),
    page("web:wechat-menu", "GET", "/wechat/menu/", (), fixed=SAME_503, note="off: WECHAT_* unset"),
    page("web:wechat-oauth", "GET", "/wechat/oauth/", (), fixed=SAME_503, note="off: WECHAT_* unset"),
]  # fmt: skip

ROWS: list[Row] = API + PAGES

# The consoles' sockets (web/routing.py): who may connect. A unit socket joins only the handler's
# own unit's group (tests/web/test_consumers.py shows what it receives).
SOCKETS: dict[str, tuple[str, ...]] = {
    "/ws/agent/": ("agent",),  # a console rings one phone: only an agent has one (not a superuser)
    "/ws/unit/": ("superuser", "unit_l2", "unit_l3"),
    "/ws/dispatch/": ("dispatcher", "supervisor", "superuser"),
    "/ws/wallboard/": ("supervisor", "superuser"),
}
SOCKET_PERSONAS = ("anonymous", *CENTER, "auditor", "quality", "unit_l2", "unit_l3", "unit_none")

# URL patterns the table stands for as a family, with the row that stands for them.
FAMILIES = {"admin:": "admin:index GET"}


# --- the doc ----------------------------------------------------------------------------------

COLUMNS = [
    ("anonymous", ""),
    ("agent", ""),
    ("dispatcher", ""),
    ("supervisor", ""),
    ("admin", ""),
    ("superuser", ""),
    ("auditor", ""),
    ("quality", ""),
    ("unit_l2", "own"),
    ("unit_l2", "sub"),
    ("unit_l2", "other"),
    ("unit_l3", "own"),
    ("unit_l3", "up"),
    ("unit_l3", "other"),
    ("unit_none", ""),
]
HEADERS = [
    "anon",
    "agent",
    "disp",
    "sup",
    "admin",
    "su",
    "audit",
    "qc",
    *(f"L{level} {scope}" for level, persona in ((2, "unit_l2"), (3, "unit_l3")) for scope in W.SCOPES[persona]),
    "no unit",
]
SYMBOLS = {OK: "✓", DENIED: "✗", LOGIN: "→login", SOFT: "✗ msg", HIDDEN: "∅", SAME_400: "400", SAME_503: "503"}


def routes() -> dict[str, list[tuple[str, Any]]]:
    """Every URL pattern of the project: its name (with namespace) → [(route, view callback)]."""
    from django.urls import URLResolver, get_resolver

    found: dict[str, list[tuple[str, Any]]] = {}

    def walk(resolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
                walk(entry, prefix + str(entry.pattern), inner)
            else:
                found.setdefault(namespace + (entry.name or ""), []).append(
                    (prefix + str(entry.pattern), entry.callback)
                )

    walk(get_resolver(), "/", "")
    return found


def path_text(row: Row) -> str:
    """The route as the URL conf spells it (DRF's regex made readable)."""
    route = routes()[row.name][0][0]
    route = route.replace("(?P<pk>[^/.]+)", "{id}").replace("^", "").replace("$", "")
    for kind in ("int", "str", "slug"):
        route = route.replace(f"<{kind}:", "{").replace(">", "}")
    return route + (f" {row.label}" if row.label else "")


def cell_text(row: Row, persona: str, scope: str) -> str:
    asked = row.cells()
    if persona in W.UNIT_PERSONAS and (persona, scope) not in asked:
        return "·"
    return SYMBOLS[row.expected(persona, scope)]


def render_table(rows: list[Row]) -> str:
    lines = ["| endpoint | method | " + " | ".join(HEADERS) + " |", "|---|---|" + "---|" * len(HEADERS)]
    for row in rows:
        cells = [cell_text(row, persona, scope) for persona, scope in COLUMNS]
        lines.append(f"| `{path_text(row)}` | {row.method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_notes(rows: list[Row]) -> str:
    return "\n".join(f"- `{row.key}`: {row.note}" for row in rows if row.note)


def render_sockets() -> str:
    heads = ["anon", "agent", "disp", "sup", "admin", "su", "audit", "qc", "L2", "L3", "no unit"]
    lines = ["| socket | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    for path, allow in SOCKETS.items():
        marks = ["✓" if persona in allow else "✗" for persona in SOCKET_PERSONAS]
        lines.append(f"| `{path}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def render_markdown() -> str:
    return "\n\n".join(
        [
            "### REST API (`/api/v1/`, `/api/schema/`, `/api/docs/`)",
            render_table(API),
            "### Pages and forms",
            render_table(PAGES),
            "### WebSockets (✓ connects, ✗ closed at connect)",
            render_sockets(),
            "### Notes on rows",
            render_notes(ROWS),
        ]
    )
