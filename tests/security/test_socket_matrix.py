"""Issue 11: the consoles' sockets in the authorization matrix (``SOCKETS`` in tests/security/matrix.py).

Through the real ASGI stack (origin check → session → router → consumer), as tests/web/test_consumers.py.
Transactional (the consumer reads the session from another thread), so one test asks every socket
as every persona: the database is seeded once, not once per cell.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tests.security import matrix as M
from tests.security import world as W
from tests.web.test_consumers import communicator, run, session_cookie
from web.routing import websocket_urlpatterns


@pytest.mark.django_db(transaction=True)
def test_who_may_open_which_socket(seeded):
    world = W.make_world()

    async def scenario() -> list[str]:
        wrong = []
        for path, allow in M.SOCKETS.items():
            for persona in M.SOCKET_PERSONAS:
                user = world.users.get(persona)
                key = await sync_to_async(session_cookie)(user) if user is not None else None
                comm = communicator(path, key)
                connected, _ = await comm.connect(timeout=5)
                if connected:
                    await comm.disconnect()
                if connected != (persona in allow):
                    wrong.append(f"{path} {persona}: {'connected' if connected else 'refused'}")
        return wrong

    assert run(scenario) == []


def test_every_socket_route_is_in_the_table():
    routes = {"/" + str(pattern.pattern) for pattern in websocket_urlpatterns}
    assert routes == set(M.SOCKETS), "sockets the authorization matrix does not cover (or no longer has)"
