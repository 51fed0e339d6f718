from django.contrib.auth import views as auth_views
from django.urls import path

from web.views import (
    agent,
    agent_110,
    agent_calls,
    agent_scripts,
    audit,
    auth,
    callers,
    cases,
    center,
    dashboard,
    held,
    home,
    hotspots,
    knowledge,
    public,
    quality,
    referrals110,
    report,
    search,
    supervision,
    ticket,
    unit,
    wechat,
)

app_name = "web"

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/verify/", auth.verify, name="login-verify"),
    path("login/enrol/", auth.enrol, name="login-enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # 话务台
    path("agent/", agent.console, name="agent"),
    path("agent/state/", agent.set_state, name="agent-state"),
    path("agent/wrapup/", agent.wrap_up, name="agent-wrapup"),
    path("agent/register/", agent.register_form, name="agent-register-form"),
    path("agent/knowledge/", agent.knowledge, name="agent-knowledge"),
    path("agent/script/", agent_scripts.matter, name="agent-script"),
    path("agent/knowledge/<int:pk>/used/", knowledge.used, name="agent-knowledge-used"),
    path("agent/knowledge/<int:pk>/feedback/", knowledge.feedback, name="agent-knowledge-feedback"),
    path("unit/knowledge/", knowledge.unit_page, name="unit-knowledge"),
    path("unit/knowledge/propose/", knowledge.propose, name="unit-knowledge-propose"),
    path("knowledge/", knowledge.center_page, name="knowledge"),
    path("knowledge/proposals/<int:pk>/decide/", knowledge.decide, name="knowledge-decide"),
    path("knowledge/articles/<int:pk>/move/", knowledge.move, name="knowledge-move"),
    path("agent/register/submit/", agent.register, name="agent-register"),
    path("agent/tickets/<int:pk>/dispatch/", agent.dispatch_ticket, name="agent-dispatch"),
    path("agent/tickets/<int:pk>/merge/", agent.merge_ticket, name="agent-merge"),
    path("agent/transfer-110/", agent.transfer_110, name="agent-transfer-110"),
    path("agent/from-110/", agent_110.from_110, name="agent-from-110"),
    path("agent/expert/", agent.conference_unit, name="agent-expert"),
    path("agent/tickets/<int:pk>/resolve-with-unit/", agent.resolve_with_unit, name="agent-resolve-with-unit"),
    path("agent/hang-up/", agent.hang_up, name="agent-hang-up"),
    path("agent/stop-recording/", agent.stop_recording, name="agent-stop-recording"),
    path("agent/call/hold/", agent_calls.hold, name="agent-call-hold"),
    path("agent/call/mute/", agent_calls.mute, name="agent-call-mute"),
    path("agent/call/transfer/", agent_calls.transfer, name="agent-call-transfer"),
    path("agent/call/transfer/end/", agent_calls.transfer_end, name="agent-call-transfer-end"),
    path("agent/report-caller/", agent.report_caller, name="agent-report-caller"),
    path("agent/callbacks/<int:pk>/dial/", agent.call_back, name="agent-call-back"),
    path("agent/callbacks/<int:pk>/done/", agent.callback_done, name="agent-callback-done"),
    path("agent/revisits/<int:pk>/dial/", agent.revisit_dial, name="agent-revisit-dial"),
    path("agent/revisits/<int:pk>/result/", agent.revisit_result, name="agent-revisit-result"),
    # 承办工作台
    path("unit/", unit.workbench, name="workbench"),
    path("unit/tickets/<int:pk>/", unit.ticket_detail, name="unit-ticket"),
    path("unit/assignments/<int:pk>/accept/", unit.accept, name="unit-accept"),
    path("unit/assignments/<int:pk>/return/", unit.return_, name="unit-return"),
    path("unit/assignments/<int:pk>/sub-dispatch/", unit.sub_dispatch, name="unit-sub-dispatch"),
    path("unit/assignments/<int:pk>/reply/", unit.reply, name="unit-reply"),
    path("unit/assignments/<int:pk>/extension/", unit.request_extension, name="unit-extension"),
    path("unit/assignments/<int:pk>/dispute/", unit.dispute, name="unit-dispute"),
    path("dispatch/disputes/<int:pk>/decide/", center.decide_dispute, name="center-dispute"),
    # 派单 and 监控大屏
    path("dispatch/", center.dispatch_queue, name="dispatch"),
    # 待审核: public reports held as possible spam/abuse (docs/citizens.md, "Abuse control")
    path("dispatch/held/", held.held_list, name="held"),
    path("dispatch/held/<int:pk>/release/", held.release, name="held-release"),
    path("dispatch/held/<int:pk>/spam/", held.mark_spam, name="held-spam"),
    path("dispatch/tickets/<int:pk>/dispatch/", center.dispatch_ticket, name="center-dispatch"),
    path("dispatch/tickets/<int:pk>/review/", center.review, name="center-review"),
    path("dispatch/extensions/<int:pk>/decide/", center.decide_extension, name="center-extension"),
    path("wallboard/", center.wallboard, name="wallboard"),
    path("tickets/<int:pk>/", ticket.ticket_page, name="ticket"),
    path("tickets/<int:pk>/dispatch/", ticket.hand_dispatch, name="ticket-dispatch"),
    path("tickets/<int:pk>/reassign/", ticket.reassign, name="ticket-reassign"),
    path("tickets/<int:pk>/close/", ticket.close, name="ticket-close"),
    path("tickets/<int:pk>/reopen/", ticket.reopen, name="ticket-reopen"),
    path("tickets/<int:pk>/merge/", ticket.merge, name="ticket-merge"),
    path("tickets/<int:pk>/discard/", ticket.discard, name="ticket-discard"),
    path("tickets/<int:pk>/restore/", ticket.restore, name="ticket-restore"),
    path("tickets/<int:pk>/remind/", ticket.remind, name="ticket-remind"),
    path("tickets/<int:pk>/supervise/", ticket.supervise, name="ticket-supervise"),
    # 办件公开: the center publishes a closed ticket; citizens read the cases (no login)
    path("tickets/<int:pk>/publish/", cases.publish, name="ticket-publish"),
    path("cases/", cases.case_list, name="cases"),
    path("cases/pending/", cases.pending, name="cases-pending"),
    path("cases/<int:pk>/", cases.case_page, name="case"),
    path("cases/<int:pk>/withdraw/", cases.withdraw, name="case-withdraw"),
    # 督办
    path("supervision/", supervision.case_list, name="supervision"),
    path("supervision/open/", supervision.open_on_tickets, name="supervision-open"),
    path("supervision/excel/", supervision.excel, name="supervision-excel"),
    path("supervision/<int:pk>/", supervision.case_page, name="supervision-case"),
    path("supervision/<int:pk>/note/", supervision.add_note, name="supervision-note"),
    path("supervision/<int:pk>/close/", supervision.close_case, name="supervision-close"),
    # 恶意来电/缠访: the center's review of callers (supervisors and admins)
    path("callers/", callers.caller_list, name="callers"),
    # 12345↔110 referrals per month and matter (docs/referrals-110.md)
    path("referrals-110/", referrals110.monthly, name="referrals110-report"),
    path("callers/<int:pk>/", callers.caller_page, name="caller"),
    path("callers/<int:pk>/flag/", callers.flag, name="caller-flag"),
    path("callers/<int:pk>/lift/", callers.lift, name="caller-lift"),
    path("callers/<int:pk>/decline/", callers.decline, name="caller-decline"),
    # 工单查询: the center and the units
    path("search/", search.search, name="search"),
    path("search/export/", search.export, name="search-export"),
    # 市民: progress by ticket number and query code (no login)
    path("track/", public.track, name="track"),
    path("track/forgot/", public.forgot_code, name="track-forgot"),
    path("track/text-size/", public.text_size, name="track-text-size"),
    path("t/<str:number>", public.track_short, name="track-short"),
    # 考核看板
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/drill/<slug:kpi>/", dashboard.drill, name="dashboard-drill"),
    path("dashboard/excel/", dashboard.excel, name="dashboard-excel"),
    # 热点预警 → 专题督办 (metrics.hotspots)
    path("dashboard/hotspots/<int:pk>/supervise/", hotspots.supervise, name="hotspot-supervise"),
    # 审计日志 (the auditor role only)
    path("audit/", audit.audit_log, name="audit"),
    path("quality/", quality.home, name="quality"),
    path("quality/checks/<int:pk>/", quality.check_page, name="quality-check"),
    path("quality/checks/<int:pk>/score/", quality.score, name="quality-score"),
    path("quality/excel/", quality.excel, name="quality-excel"),
]

# 市民: "my tickets" after an SMS code (docs/citizens.md)
urlpatterns += [
    path("track/mine/", public.mine, name="track-mine"),
    # 随手拍 and online reports: a citizen files a ticket with photos and a place (no login; SMS code)
    path("report/", report.report, name="report"),
    path("track/mine/verify/", public.mine_verify, name="track-mine-verify"),
    path("track/mine/leave/", public.mine_leave, name="track-mine-leave"),
    path("track/mine/<str:number>/", public.mine_ticket, name="track-mine-ticket"),
]

# 微信公众号 (docs/citizens.md): WeChat's server endpoint, and the menu's link through OAuth.
urlpatterns += [
    path("wechat/", wechat.endpoint, name="wechat"),
    path("wechat/menu/", wechat.menu, name="wechat-menu"),
    path("wechat/oauth/", wechat.oauth, name="wechat-oauth"),
]
