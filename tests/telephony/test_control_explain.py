"""The bridge's refusals in the user's language (issue 14, point 8): the consoles never show the
bridge's English, only the PBX's own answer quoted when there is nothing better to say."""

from __future__ import annotations

import pytest
from django.utils import translation

from telephony import commands, control


@pytest.mark.parametrize(
    ("error", "chinese"),
    [
        (control.CommandFailed("agent 1001 has no call in progress", code=commands.NO_CALL), "当前没有进行中的通话。"),
        (control.CommandFailed("not an agent extension: '9'", code=commands.NOT_AGENT), "该分机不是话务员分机"),
        (control.CommandFailed("x has no agent phone extension", code=control.NO_EXTENSION), "未绑定话务分机"),
        (control.CommandFailed("hangup: the bridge took it but …", code=control.NO_RESULT), "没有返回结果"),
        (control.BridgeUnavailable("the telephony bridge did not answer hangup within 3 s"), "话务桥接无响应"),
        (control.CommandFailed("No such channel"), "电话系统拒绝：No such channel"),
    ],
)
def test_each_refusal_is_said_in_chinese(error, chinese):
    with translation.override("zh-hans"):
        said = control.explain(error)
    assert chinese in said
    if getattr(error, "code", "") or isinstance(error, control.BridgeUnavailable):
        assert str(error) not in said  # the bridge's English stays in the log


def test_every_refusal_code_the_bridge_sends_is_explained_or_handled_by_the_transfer_view():
    from web.views.agent import TRANSFER_FAILURES

    explained = set(control._EXPLAINED) | set(TRANSFER_FAILURES)
    assert explained >= commands.FAILURE_CODES
