"""A consult transfer under way survives a restart of the bridge (or a standby's takeover).

Real bridges over real TCP to the recorded server (recorded_pbx.py) playing a real Asterisk 22.10.1
(telephony/traces/outage/consult_restart*, README there): the first bridge begins the consultation
(its Atxfer, the unit answers) and goes away; a new bridge, nothing in memory, connects and resyncs.
The PBX's CoreShowChannels answer shows the consulted leg, so 完成转接 / 取消转接 still work, each
reported only once the PBX showed it.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from telephony import bridge as bridge_module
from telephony import control
from telephony.models import Call
from tests.telephony.recorded_pbx import RecordedPBX, Session
from tests.telephony.test_outage import _until
from tests.telephony.test_threeway import _answered_call, _ended

pytestmark = pytest.mark.django_db(transaction=True)

UNIT = "073155558888"


@pytest.mark.parametrize("finish", ["complete", "cancel"])
def test_a_consultation_begun_before_a_bridge_restart_can_be_completed_or_cancelled_after_it(
    settings, agent, finish
) -> None:
    scenario = "consult_restart" if finish == "complete" else "consult_restart_cancel"
    pbx = RecordedPBX(
        [Session(f"{scenario}.part1", close=True, at_send=True), Session(f"{scenario}.part2", at_send=True)]
    )

    async def main():
        await pbx.start()
        settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", pbx.port
        settings.AMI_QUEUE_LOG_PATH = ""
        first = bridge_module.from_settings()
        first.client.config = dataclasses.replace(first.client.config, backoff_initial=60)
        stop_first = asyncio.Event()
        task = asyncio.create_task(first.run(stop_first))
        try:
            call = await _answered_call()
            consulting = await sync_to_async(control.consult_transfer)(agent, UNIT)
            assert consulting.consulting == UNIT
            await asyncio.wait_for(pbx.done[0].wait(), 30)  # the first bridge's connection is gone
        finally:
            stop_first.set()
            await asyncio.wait_for(task, 15)
        second = bridge_module.from_settings()
        stop = asyncio.Event()
        task = asyncio.create_task(second.run(stop))
        try:

            async def resynced() -> bool:  # adopted from the row and the PBX's channels, in one step
                return call.linkedid in second.tracker.calls

            await _until(resynced, 15)
            if finish == "complete":
                done = await sync_to_async(control.complete_transfer)(agent, "雨湖区")
                assert (done.consulting, done.transferred_to) == ("", f"雨湖区 {UNIT}")
                assert (await _ended(call)).outcome == "transferred"
            else:
                back = await sync_to_async(control.cancel_transfer)(agent)
                assert (back.consulting, back.transferred_to) == ("", "")
                # The caller is with the agent again: the agent ends the call as usual.
                await sync_to_async(control.hang_up)(agent)
                assert (await _ended(call)).outcome == "answered"
            assert await database_sync_to_async(Call.objects.count)() == 1
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await pbx.stop()

    asyncio.run(asyncio.wait_for(main(), 90))
