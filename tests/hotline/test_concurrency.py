"""Two people acting on one ticket at the same moment, over real database connections.

These need a database where two connections really contend for a row lock
(PostgreSQL in CI); on SQLite's in-memory test database they are skipped.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotline.errors import DomainError
from hotline.models import Assignment, Ticket, TimelineEntry, Unit
from hotline.services import dispatch
from tests.factories import new_ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _only_on_postgres(seeded):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's in-memory test database has one connection")


def run_together(*actions):
    """Start every action on its own thread and connection at the same instant."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def runner(index, action):
        from django.db import connections

        try:
            barrier.wait()
            results[index] = action()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread raised
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_dispatches_of_one_ticket_leave_exactly_one(agent, dispatcher):
    ticket = new_ticket(agent)
    yuhu, zhujian = Unit.objects.get(code="YH"), Unit.objects.get(code="ZJJ")
    results = run_together(
        lambda: dispatch.dispatch_ticket(Ticket.objects.get(pk=ticket.pk), agent, yuhu, expected_version=1),
        lambda: dispatch.dispatch_ticket(Ticket.objects.get(pk=ticket.pk), dispatcher, zhujian, expected_version=1),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], DomainError), errors
    assert errors[0].code in ("conflict", "illegal_transition")
    assert Assignment.objects.filter(ticket=ticket).count() == 1
    assert TimelineEntry.objects.filter(ticket=ticket, action="ticket.dispatched").count() == 1


def test_concurrent_registrations_never_share_a_ticket_number(agent):
    results = run_together(*[lambda i=i: new_ticket(agent, phone=f"1380013{i:04d}") for i in range(8)])
    numbers = [t.number for t in results]
    assert len(set(numbers)) == 8
