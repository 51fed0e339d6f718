"""Missed calls become callbacks; ready agents are offered the oldest; the bridge being down loses nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection

from callback import callbacks
from callback.models import CallbackAttempt, CallbackStatus, CallbackTask, DoNotCall
from hotline import jobs
from tests.callback.conftest import MORNING, answered_call, missed_call, ready
from tests.conftest import is_postgres
from tests.factories import set_presence

pytestmark = pytest.mark.django_db


def test_an_abandoned_call_becomes_one_due_callback_however_often_the_job_runs(agent) -> None:
    call = missed_call()
    missed_call("13900139000", outcome="answered", answered_at=MORNING)  # answered: nothing to do
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        jobs.run_once()
        jobs.run_once()
    task = CallbackTask.objects.get()
    assert (task.call, task.number, task.status) == (call, "+8613800138000", CallbackStatus.DUE)
    assert task.next_attempt_at == MORNING


def test_a_caller_who_got_through_later_the_same_day_is_not_called_back(agent) -> None:
    missed_call(at=MORNING)
    answered_call("13800138000", MORNING + timedelta(hours=2))
    callbacks.ingest_missed_calls()
    assert CallbackTask.objects.get().status == CallbackStatus.CANCELLED


def test_getting_through_the_next_day_does_not_cancel_yesterdays_callback(agent) -> None:
    missed_call(at=MORNING)
    callbacks.ingest_missed_calls()
    answered_call("13800138000", MORNING + timedelta(days=1))
    assert callbacks.cancel_got_through() == 0
    assert CallbackTask.objects.get().status == CallbackStatus.DUE


def test_an_open_callback_is_cancelled_when_the_caller_gets_through_before_it_is_made(agent) -> None:
    missed_call(at=MORNING)
    callbacks.ingest_missed_calls()
    answered_call("13800138000", MORNING + timedelta(minutes=30))
    assert callbacks.cancel_got_through() == 1
    assert CallbackTask.objects.get().status == CallbackStatus.CANCELLED


def test_the_oldest_due_callback_goes_to_a_ready_agent_and_never_to_two(agent, agent2) -> None:
    older = missed_call("13800138000", at=MORNING - timedelta(minutes=20))
    newer = missed_call("13900139000", at=MORNING - timedelta(minutes=10))
    callbacks.ingest_missed_calls()
    ready(agent), ready(agent2)
    with time_machine.travel(MORNING, tick=False):
        assert callbacks.offer_callbacks() == 2
        assert callbacks.offer_callbacks() == 0  # both agents hold an offer already
    offered = {t.call_id: t.agent for t in CallbackTask.objects.all()}
    assert offered == {older.pk: agent, newer.pk: agent2}


def test_a_paused_agent_is_offered_nothing(agent) -> None:
    missed_call()
    callbacks.ingest_missed_calls()
    set_presence(agent, "paused")
    with time_machine.travel(MORNING, tick=False):
        assert callbacks.offer_callbacks() == 0
        assert callbacks.offer_next_callback(agent) is None


def test_a_call_missed_before_midnight_is_offered_only_from_half_past_eight(agent) -> None:
    # 23:50 Shanghai on Friday 27 November.
    night = datetime(2026, 11, 27, 15, 50, tzinfo=UTC)
    missed_call(at=night)
    callbacks.ingest_missed_calls()
    ready(agent)
    task = CallbackTask.objects.get()
    assert task.next_attempt_at == datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # 08:30 Saturday
    for at in (night + timedelta(minutes=5), datetime(2026, 11, 27, 17, 0, tzinfo=UTC)):  # 23:55, 01:00
        with time_machine.travel(at, tick=False):
            assert callbacks.offer_callbacks() == 0
    with time_machine.travel(datetime(2026, 11, 28, 0, 31, tzinfo=UTC), tick=False):
        assert callbacks.offer_callbacks() == 1


def test_outside_calling_hours_even_an_accepted_offer_is_not_dialled(agent, settings) -> None:
    missed_call()
    callbacks.ingest_missed_calls()
    ready(agent)
    with time_machine.travel(MORNING, tick=False):
        task = callbacks.offer_next_callback(agent)
    settings.CALLBACK_HOURS = "08:30-09:00"  # it is 10:00 now
    with time_machine.travel(MORNING + timedelta(seconds=5), tick=False), pytest.raises(Exception, match="outside"):
        callbacks.accept_callback(task, agent)
    assert CallbackAttempt.objects.count() == 0


def test_a_number_on_the_do_not_call_list_is_never_offered(agent) -> None:
    missed_call()
    DoNotCall.objects.create(phone="+8613800138000", reason="市民要求")
    callbacks.ingest_missed_calls()
    ready(agent)
    with time_machine.travel(MORNING, tick=False):
        assert callbacks.offer_callbacks() == 0
        assert callbacks.offer_next_callback(agent) is None
    assert CallbackTask.objects.get().status == CallbackStatus.CANCELLED  # cancelled when it was created


def test_with_the_bridge_down_the_callback_stays_due_and_is_offered_again_later(agent, settings) -> None:
    settings.CALLBACK_ORIGINATE_TIMEOUT = 0.3  # no bridge runs in this test: the request times out
    # Within calling hours whatever the hour the tests run at; the clock ticks for the real timeout.
    with time_machine.travel(MORNING, tick=True):
        missed_call()
        callbacks.ingest_missed_calls()
        ready(agent)
        task = callbacks.offer_next_callback(agent)
        task = callbacks.accept_callback(task, agent)
        assert task.status == CallbackStatus.DUE and task.agent is None and task.attempts == 0
        assert "did not answer" in task.last_error
        assert CallbackAttempt.objects.get().error == task.last_error
        assert callbacks.offer_next_callback(agent) is None  # not before the retry time
        with time_machine.travel(task.next_attempt_at + timedelta(seconds=1)):
            assert callbacks.offer_next_callback(agent).pk == task.pk


def test_an_offer_nobody_accepts_goes_back_to_the_queue(agent, agent2) -> None:
    """The worker (or console) that made the offer died: its lease runs out and another agent gets it."""
    missed_call()
    callbacks.ingest_missed_calls()
    ready(agent)
    with time_machine.travel(MORNING, tick=False):
        task = callbacks.offer_next_callback(agent)
    ready(agent2)
    with time_machine.travel(MORNING + timedelta(seconds=10), tick=False):
        assert callbacks.offer_next_callback(agent2) is None
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        assert callbacks.expire_leases() == 1
        set_presence(agent, "paused")
        assert callbacks.offer_next_callback(agent2).pk == task.pk
        with pytest.raises(Exception, match="no longer offered"):
            callbacks.accept_callback(task, agent)


def test_a_number_put_on_the_list_later_is_cancelled_by_the_job(agent) -> None:
    missed_call()
    callbacks.ingest_missed_calls()
    DoNotCall.objects.create(phone="+8613800138000")
    ready(agent)
    with time_machine.travel(MORNING, tick=False):
        assert callbacks.offer_next_callback(agent) is None
        assert jobs.run_once()["callbacks.do_not_call"] == 1
    assert CallbackTask.objects.get().status == CallbackStatus.CANCELLED


def test_a_missed_call_too_old_to_call_back_leaves_the_list_and_is_closed(agent, settings) -> None:
    settings.CALLBACK_EXPIRE_HOURS = 48
    missed_call()
    callbacks.ingest_missed_calls()
    two_days_later = MORNING + timedelta(hours=47)
    with time_machine.travel(two_days_later, tick=False):
        assert list(callbacks.due_callbacks()) == [CallbackTask.objects.get()]
        assert jobs.run_once()["callbacks.expire"] == 0
    with time_machine.travel(MORNING + timedelta(hours=49), tick=False):
        assert not callbacks.due_callbacks().exists()  # off the agents' list at once
        ready(agent)
        assert callbacks.offer_next_callback(agent) is None
        assert jobs.run_once()["callbacks.expire"] == 1
    task = CallbackTask.objects.get()
    assert (task.status, task.note) == (CallbackStatus.CANCELLED, "超过回拨时限")  # kept as the record


def test_with_no_expiry_an_old_missed_call_stays_due(agent, settings) -> None:
    settings.CALLBACK_EXPIRE_HOURS = 0
    missed_call()
    callbacks.ingest_missed_calls()
    with time_machine.travel(MORNING + timedelta(days=30), tick=False):
        assert callbacks.due_callbacks().count() == 1
        assert jobs.run_once()["callbacks.expire"] == 0


def test_manual_dial_of_a_bad_number_is_refused_clearly(agent) -> None:
    with pytest.raises(Exception, match="not a valid"):
        callbacks.manual_dial(agent, number="12345")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_thousand_due_callbacks_are_each_offered_exactly_once_to_concurrent_agents(seeded) -> None:
    if not is_postgres():
        pytest.skip("needs PostgreSQL: row locks across connections")
    from tests.conftest import make_user

    agents = [ready(make_user(f"agent_{i}", "agent", "XT12345", agent_extension=f"20{i:02d}")) for i in range(8)]
    at = MORNING - timedelta(hours=1)
    CallbackTask.objects.bulk_create(
        CallbackTask(number=f"+86138{i:08d}", missed_at=at + timedelta(microseconds=i), next_attempt_at=at)
        for i in range(10_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE callback_callbacktask")  # fresh statistics after the bulk insert, as autovacuum would
    taken: dict[int, list[int]] = {a.pk: [] for a in agents}
    errors: list[BaseException] = []

    def work(agent) -> None:
        try:
            while True:
                task = callbacks.offer_next_callback(agent, MORNING)
                if task is None:
                    if not callbacks.due_callbacks(MORNING).exists():
                        return
                    continue
                taken[agent.pk].append(task.pk)
                # The agent finishes at once, freeing itself for the next offer.
                CallbackTask.objects.filter(pk=task.pk, agent=agent, status="offered").update(status="done")
        except Exception as exc:  # noqa: BLE001 - surfaced in the main thread below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors
    offered = [pk for pks in taken.values() for pk in pks]
    assert len(offered) == len(set(offered)) == 10_000
    assert CallbackTask.objects.filter(status="done").count() == 10_000
    assert sum(1 for pks in taken.values() if pks) > 1  # the agents really competed
