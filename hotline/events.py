"""Real-time notifications, sent only after the transaction commits.

The channel layer is at-most-once: it carries hints that something changed,
never the only copy of anything. Consoles reload state from the database.
"""

from __future__ import annotations

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

CENTER_GROUP = "center"
# Every agent console: news that changes what all of them may take (a revisit claimed or due).
AGENTS_GROUP = "agents"


def unit_group(unit_id: int) -> str:
    return f"unit.{unit_id}"


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def publish_on_commit(groups: list[str] | tuple[str, ...], event: dict) -> None:
    """Send ``event`` to each group once the surrounding transaction commits."""
    # Fail at the call site, not later in a consumer, if the payload is not JSON.
    payload = json.loads(json.dumps(event))
    transaction.on_commit(lambda: _send(list(groups), payload))


def _send(groups: list[str], event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, event)
        except Exception:
            log.warning("could not publish %s to %s", event.get("type"), group, exc_info=True)
