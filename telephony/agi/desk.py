"""专席 by the caller's history: which desk a caller goes to before the welcome menu is heard.

The dialplan runs ``AGI(agi://…/desk)`` as the call arrives (docs/asterisk/extensions.conf). This
script sets

- ``HOTLINE_DESK``: the desk the caller's history names (``telephony.desks.desk_for_caller``: a
  ``CallerDesk`` mark, else a business matter last time); not set when there is none;
- ``HOTLINE_DESK_WAIT``: how long a caller waits at a desk before the general one
  (``AMI_DESK_WAIT_SECONDS``).

A key pressed in the menu (2 business, 3 dialect) overrides the history. When this server is
down, nothing is set: the caller goes to the general desk, or the desk of the key they press.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from telephony import desks
from telephony.agi.protocol import AgiChannel

log = logging.getLogger(__name__)

DESK = "HOTLINE_DESK"
WAIT = "HOTLINE_DESK_WAIT"


async def run(agi: AgiChannel) -> None:
    calling = agi.env.get("agi_callerid", "")
    desk = await sync_to_async(desks.desk_for_caller)(calling)
    await agi.set_variable(WAIT, str(int(settings.AMI_DESK_WAIT_SECONDS)))
    if desk:
        log.info("IVR: the caller's history sends them to the desk %s", desk)
        await agi.set_variable(DESK, desk)
