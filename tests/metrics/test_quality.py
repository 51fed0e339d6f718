"""工单质检 (issue 14.6): sampling (random and each rule), scoring and its refusals, results, the workbook.

The week of 2 November 2026 on the 湘潭 network, made through the real services at past moments:
agent Wang registers four tickets and agent Li one; 雨湖区 replies to all five. One reply is short
and says solved, one says 已办结 wrapped in thanks, one is sent back, one is rated unsatisfied.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from openpyxl import load_workbook

from callback import revisits
from hotline.errors import Conflict, InvalidInput, NotAllowed
from hotline.models import AuditAction, AuditEntry, Role, Ticket, Unit
from hotline.services import dispatch, tickets
from hotline.services.assignments import current_lead
from metrics import quality
from metrics.models import ChecklistItem, CheckScore, CheckStatus, CheckTarget, QualityCheck, QualityRound
from metrics.periods import Period
from metrics.seed import seed_checklist
from tests.conftest import make_user
from tests.factories import new_ticket

SH = ZoneInfo("Asia/Shanghai")
WEEK = Period.of("week", date(2026, 11, 2))
NEXT_WEEK = Period.of("week", date(2026, 11, 9))
GOOD = "经现场核查，广场舞团队已调整活动时间至晚上九点前结束并降低音量，社区每周巡查两次，已电话告知市民。"
REPLIES = {
    "good": GOOD,
    "short": "已解决。",
    "empty": "经核实，该问题已办结，感谢市民的反映与监督，谢谢您的理解和支持！",
    "sent_back": GOOD,
    "unhappy": GOOD,
}


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def checklist(seeded):
    """The default checklist (a transactional test's flush removes what the migration seeded)."""
    seed_checklist(ChecklistItem)
    return {item.code: item for item in ChecklistItem.objects.all()}


@pytest.fixture
def li(seeded):
    return make_user("agent_li", Role.AGENT, "XT12345", first_name="话务员小李")


@pytest.fixture
def checker(seeded):
    return make_user("checker_qian", Role.QUALITY, "XT12345", first_name="质检员钱")


@pytest.fixture
def week(agent, li, dispatcher, yuhu):
    """The five tickets of the week by their story name, each dispatched to 雨湖区 and replied."""
    made = {}
    for n, (name, text) in enumerate(REPLIES.items(), start=1):
        by = li if name == "unhappy" else agent
        with travel(at(2, 9, n)):
            ticket = new_ticket(by, phone=f"1380000100{n}", address=f"雨湖区城正街{n}号")
            dispatch.dispatch_ticket(ticket, dispatcher, Unit.objects.get(code="YH"))
        with travel(at(2, 10, n)):
            part = current_lead(ticket)
            dispatch.accept_assignment(part, yuhu)
        with travel(at(3, 10, n)):
            dispatch.reply_assignment(current_lead(ticket), yuhu, text)
        made[name] = Ticket.objects.get(pk=ticket.pk)
    with travel(at(4, 9)):
        tickets.review_reply(made["sent_back"], dispatcher, approve=False, note="答复未说明处理结果")
        tickets.review_reply(Ticket.objects.get(pk=made["unhappy"].pk), dispatcher, approve=True)
        visit = revisits.schedule_revisit(made["unhappy"])
    with travel(at(6, 15)):
        revisits.record_result(visit, None, rating="unsatisfied", solved=False)
    return made


def replied(ticket: Ticket):
    """The ticket's first lead reply (a redo comes after it)."""
    return ticket.assignments.filter(role="lead", replied_at__isnull=False).order_by("pk").first()


def reply_reasons() -> dict[int, list[str]]:
    return {c.assignment_id: c.reasons for c in QualityCheck.objects.filter(target=CheckTarget.REPLY)}


# --- the rules ------------------------------------------------------------------------------------


def test_the_text_rules_count_words_not_punctuation():
    assert quality.meaningful_length("已解决。！ ") == 3
    assert quality.is_short("已解决。", 10)
    assert not quality.is_short(GOOD, 10)
    assert quality.says_solved_without_substance(REPLIES["empty"], 10)
    assert not quality.says_solved_without_substance(GOOD, 10)  # says 已… but tells how
    assert not quality.says_solved_without_substance("请市民耐心等待。", 10)  # does not say solved


def test_sample_size_is_the_percent_rounded_up_and_at_least_one():
    assert [quality.sample_size(n, 5) for n in (0, 1, 20, 21)] == [0, 1, 1, 2]
    assert quality.sample_size(4, 50) == 2
    assert quality.sample_size(3, 0) == 0


# --- sampling -------------------------------------------------------------------------------------


def test_each_rule_picks_its_replies_with_the_reason(week):
    rnd = quality.sample(WEEK, seed=1, percent=0, short_reply_chars=10)
    reasons = reply_reasons()
    assert reasons == {
        replied(week["short"]).pk: ["short_reply", "empty_solved"],
        replied(week["empty"]).pk: ["empty_solved"],
        replied(week["sent_back"]).pk: ["reopened"],
        replied(week["unhappy"]).pk: ["reopened", "dissatisfied"],  # the unsatisfied revisit reopened it too
    }
    assert not QualityCheck.objects.filter(target=CheckTarget.REGISTRATION).exists()  # no random share: none
    assert {c.unit.code for c in rnd.checks.all()} == {"YH"}
    assert (rnd.percent, rnd.short_reply_chars, rnd.seed) == (0, 10, 1)


def test_a_random_share_of_each_agents_registrations_and_each_units_replies(week, agent, li):
    quality.sample(WEEK, seed=42, percent=50, short_reply_chars=1)  # no reply is short now
    registrations = QualityCheck.objects.filter(target=CheckTarget.REGISTRATION)
    assert registrations.filter(agent=agent).count() == 2  # half of four
    assert registrations.filter(agent=li).count() == 1  # at least one
    assert all(c.reasons == ["random"] for c in registrations)
    replies = QualityCheck.objects.filter(target=CheckTarget.REPLY)
    assert sum("random" in c.reasons for c in replies) == 3  # half of five, rounded up
    # A reply a rule flagged and the draw picked is one check with both reasons.
    assert len({c.assignment_id for c in replies}) == replies.count()


def test_the_same_seed_picks_the_same_items(week):
    def picks(seed: int) -> set[tuple[str, int, int | None]]:
        with transaction.atomic():
            quality.sample(WEEK, seed=seed, percent=50, short_reply_chars=1)
            got = set(QualityCheck.objects.values_list("target", "ticket_id", "assignment_id"))
            transaction.set_rollback(True)
        return got

    first = picks(7)
    assert picks(7) == first
    assert any(picks(seed) != first for seed in (8, 9, 10))  # and the seed matters


def test_a_period_is_sampled_once_and_an_item_is_never_picked_twice(week, dispatcher, yuhu):
    quality.sample(WEEK, seed=3, percent=100, short_reply_chars=10)
    with pytest.raises(Conflict):
        quality.sample(WEEK, seed=4)
    first = replied(week["good"])
    with travel(at(10, 9)):  # the next week the good reply is sent back: the rule flags it again
        tickets.review_reply(week["good"], dispatcher, approve=False, note="请补充整改结果")
    rnd = quality.sample(NEXT_WEEK, seed=5, percent=0, short_reply_chars=10)
    assert not rnd.checks.filter(assignment=first).exists()
    assert QualityCheck.objects.filter(assignment=first).count() == 1


def test_the_job_step_samples_the_last_finished_week_once(week, settings):
    settings.QUALITY_SAMPLE_PERIOD = "week"
    settings.QUALITY_SAMPLE_PERCENT = 100
    made = quality.run_quality_sampling(at(11, 3))  # Wednesday of the next week
    assert made == QualityCheck.objects.count() == 5 + 5  # every registration and every reply
    assert QualityRound.objects.get().first == WEEK.first
    assert quality.run_quality_sampling(at(12, 3)) == 0


def test_the_job_step_refuses_an_unknown_period_kind(settings):
    settings.QUALITY_SAMPLE_PERIOD = "fortnight"
    with pytest.raises(ValueError, match="QUALITY_SAMPLE_PERIOD"):
        quality.run_quality_sampling(at(11, 3))


# --- scoring --------------------------------------------------------------------------------------


def registration_check(week, agent) -> QualityCheck:
    quality.sample(WEEK, seed=1, percent=100, short_reply_chars=10)
    return QualityCheck.objects.filter(target=CheckTarget.REGISTRATION, agent=agent).order_by("pk").first()


def all_items(checklist, target: str, value: int = 8) -> dict[int, int]:
    return {item.pk: value for item in checklist.values() if item.target == target}


def test_a_checker_scores_a_check_in_one_audited_step(week, agent, checker, checklist):
    check = registration_check(week, agent)
    scores = all_items(checklist, "registration", 10)
    scores[checklist["reg-address"].pk] = 4  # below the pass mark of 6
    scores[checklist["reg-handling"].pk] = None  # optional: left out
    done = quality.score_check(
        check.pk, checker, scores, notes={checklist["reg-address"].pk: "缺门牌号"}, comment="地址不具体"
    )
    assert done.status == CheckStatus.DONE and done.checker == checker and done.failed_items == 1
    # Weights 30, 20, 20, 15 of the items scored: 100 × (30 + 20 + 20 × 0.4 + 15) / 85.
    assert done.score == Decimal("85.88")
    address = CheckScore.objects.get(quality_check=done, item=checklist["reg-address"])
    assert (address.score, address.passed, address.comment, address.weight) == (4, False, "缺门牌号", Decimal(20))
    entry = AuditEntry.objects.get(action=AuditAction.QUALITY_CHECKED)
    assert entry.user == checker and entry.data["check"] == check.pk
    assert list(entry.subjects.values_list("ticket_id", flat=True)) == [check.ticket_id]


def test_scoring_twice_is_refused(week, agent, checker, checklist):
    check = registration_check(week, agent)
    quality.score_check(check.pk, checker, all_items(checklist, "registration"))
    other = make_user("checker_sun", Role.QUALITY, "XT12345")
    with pytest.raises(Conflict, match="already been scored"):
        quality.score_check(check.pk, other, all_items(checklist, "registration", 2))
    assert CheckScore.objects.filter(quality_check=check).count() == 5
    assert QualityCheck.objects.get(pk=check.pk).checker == checker


@pytest.mark.parametrize("value", [-1, 11])
def test_a_score_outside_the_items_range_is_refused_and_nothing_is_saved(week, agent, checker, checklist, value):
    check = registration_check(week, agent)
    scores = all_items(checklist, "registration")
    scores[checklist["reg-category"].pk] = value
    with pytest.raises(InvalidInput, match="分类准确: the score must be between 0 and 10"):
        quality.score_check(check.pk, checker, scores)
    assert QualityCheck.objects.get(pk=check.pk).status == CheckStatus.PENDING
    assert not CheckScore.objects.exists() and not AuditEntry.objects.filter(action="quality.checked").exists()


def test_an_overlong_comment_is_refused(week, agent, checker, checklist):
    check = registration_check(week, agent)
    with pytest.raises(InvalidInput, match="comment is too long"):
        quality.score_check(check.pk, checker, all_items(checklist, "registration"), comment="很长" * 1001)
    assert not CheckScore.objects.exists()


def test_a_missing_required_item_is_refused(week, agent, checker, checklist):
    check = registration_check(week, agent)
    scores = all_items(checklist, "registration")
    del scores[checklist["reg-elements"].pk]
    with pytest.raises(InvalidInput, match="score every required item: 诉求要素完整"):
        quality.score_check(check.pk, checker, scores)
    assert not CheckScore.objects.exists()


def test_an_item_of_the_other_checklist_is_refused(week, agent, checker, checklist):
    check = registration_check(week, agent)
    scores = all_items(checklist, "registration") | {checklist["reply-basis"].pk: 5}
    with pytest.raises(InvalidInput, match="not on the checklist"):
        quality.score_check(check.pk, checker, scores)


def test_a_checker_cannot_score_a_ticket_they_registered(week, agent, checklist):
    check = registration_check(week, agent)
    agent.role = Role.QUALITY  # the agent became a checker
    agent.save(update_fields=["role"])
    with pytest.raises(NotAllowed, match="your own work"):
        quality.score_check(check.pk, agent, all_items(checklist, "registration"))
    assert QualityCheck.objects.get(pk=check.pk).status == CheckStatus.PENDING


def test_a_checker_of_the_replying_unit_cannot_score_its_reply(week, agent, checklist):
    quality.sample(WEEK, seed=1, percent=100, short_reply_chars=10)
    check = QualityCheck.objects.filter(target=CheckTarget.REPLY).first()
    insider = make_user("checker_yuhu", Role.QUALITY, "YH")
    with pytest.raises(NotAllowed, match="your own work"):
        quality.score_check(check.pk, insider, all_items(checklist, "reply"))


def test_only_a_quality_checker_scores(week, agent, supervisor, checklist):
    check = registration_check(week, agent)
    with pytest.raises(NotAllowed, match="only a quality checker"):
        quality.score_check(check.pk, supervisor, all_items(checklist, "registration"))


def test_an_edited_item_does_not_change_a_check_already_scored(week, agent, checker, checklist):
    check = registration_check(week, agent)
    quality.score_check(check.pk, checker, all_items(checklist, "registration", 5))
    ChecklistItem.objects.filter(code="reg-elements").update(weight=Decimal(90), max_score=5)
    row = CheckScore.objects.get(quality_check=check, item=checklist["reg-elements"])
    assert (row.weight, row.max_score, row.passed) == (Decimal(30), 10, False)


# --- results and the workbook ---------------------------------------------------------------------


def test_results_per_agent_and_per_unit_and_the_workbook(week, agent, li, checker, checklist):
    quality.sample(WEEK, seed=1, percent=100, short_reply_chars=10)
    with travel(at(10, 9)):
        for n, check in enumerate(QualityCheck.objects.filter(target=CheckTarget.REGISTRATION, agent=agent)[:2]):
            scores = all_items(checklist, "registration", 10)
            scores[checklist["reg-language"].pk] = 3 + n  # failed both times
            quality.score_check(check.pk, checker, scores)
        reply = QualityCheck.objects.get(assignment=replied(week["short"]))
        quality.score_check(reply.pk, checker, all_items(checklist, "reply", 2) | {checklist["reply-contact"].pk: 0})
    agents = quality.results(NEXT_WEEK, CheckTarget.REGISTRATION)
    assert [(r.who, r.checks, r.failed_items, r.failed) for r in agents] == [(agent, 2, 2, [("规范用语", 2)])]
    assert agents[0].average == Decimal("90.25")  # (85 + 15 × 0.3 + 85 + 15 × 0.4) / 2, of weights 100
    units = quality.results(NEXT_WEEK, CheckTarget.REPLY)
    assert [(r.name, r.checks, r.average, r.failed_items) for r in units] == [("雨湖区", 1, Decimal("17.00"), 4)]
    assert quality.results(NEXT_WEEK, CheckTarget.REPLY, units=[Unit.objects.get(code="YT").pk]) == []
    assert quality.results(WEEK, CheckTarget.REGISTRATION) == []  # scored the week after
    wb = load_workbook(BytesIO(save(quality.build_workbook(NEXT_WEEK))))
    assert wb.sheetnames == ["坐席登记", "单位答复", "明细"]
    assert [c.value for c in wb["坐席登记"][2]] == [
        agent.get_full_name() or agent.username,
        2,
        90.25,
        2,
        "规范用语（2）",
    ]
    assert wb["明细"].max_row == 4
    assert "short reply" in wb["明细"]["D4"].value and wb["明细"]["G4"].value == 17


def save(wb) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_the_checklist_is_seeded_with_both_targets_and_is_idempotent(checklist):
    assert {i.target for i in checklist.values()} == {"registration", "reply"}
    assert {"诉求要素完整", "分类准确", "地址准确", "规范用语", "答复针对诉求", "依据明确", "已解决有具体内容"} <= {
        i.name for i in checklist.values()
    }
    assert seed_checklist(ChecklistItem) == 0


def test_nothing_is_sampled_from_an_empty_period(seeded):
    rnd = quality.sample(Period.of("week", date(2026, 1, 5)), seed=1)
    assert rnd.checks.count() == 0
    assert timedelta(days=6) == rnd.last - rnd.first
