"""The PBX's wrapuptime and the console's AGENT_WRAPUP_SECONDS are one number (docs/consoles.md, 话后小结).

The PBX holds the next call for ``wrapuptime``; the console asks for the wrap-up code and accepts
it for ``AGENT_WRAPUP_SECONDS``. Were they apart, the agent would be rung while the console still
says wrap-up, or be refused a code while no call comes.
"""

from __future__ import annotations

import re
from pathlib import Path

from config.settings import AGENT_WRAPUP_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def test_every_queue_of_the_example_waits_the_consoles_wrap_up_time():
    text = (ROOT / "docs/asterisk/queues.conf").read_text()
    queues = re.findall(r"^\[([^\]]+)\]", text, re.M)
    times = [int(v) for v in re.findall(r"^wrapuptime\s*=\s*(\d+)", text, re.M)]
    assert times and len(times) == len([q for q in queues if q != "general"]), (queues, times)
    assert set(times) == {AGENT_WRAPUP_SECONDS}, times
