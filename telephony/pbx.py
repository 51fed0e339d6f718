"""The PBXs the platform follows: one bridge each, one command group each (docs/telephony.md "Several PBXs").

``settings.AMI_PBXS`` (from ``AMI_PBXS=name=host:port,…``) lists them; left empty there is one PBX,
``main``, on the ``AMI_*`` settings, read when asked so that a test (or a deployment) changing
``AMI_HOST`` is believed. The first PBX is the default: agents with no PBX of their own and IVR
surveys, which have no agent, go there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

DEFAULT_PBX = "main"


@dataclass(frozen=True)
class PBX:
    name: str
    host: str
    port: int
    username: str
    secret: str
    queue_log_path: str = ""

    def __repr__(self) -> str:  # the secret never reaches a log
        return f"PBX({self.name!r}, {self.host}:{self.port})"


def configured() -> list[PBX]:
    if settings.AMI_PBXS:
        return [PBX(**item) for item in settings.AMI_PBXS]
    return [
        PBX(
            name=DEFAULT_PBX,
            host=settings.AMI_HOST,
            port=settings.AMI_PORT,
            username=settings.AMI_USERNAME,
            secret=settings.AMI_SECRET,
            queue_log_path=settings.AMI_QUEUE_LOG_PATH,
        )
    ]


def names() -> list[str]:
    return [pbx.name for pbx in configured()]


def default_name() -> str:
    return configured()[0].name


def get(name: str | None) -> PBX:
    """The PBX called ``name`` (None: the default one); ValueError naming the configured ones otherwise."""
    pbxs = configured()
    if name is None:
        return pbxs[0]
    for pbx in pbxs:
        if pbx.name == name:
            return pbx
    raise ValueError(f"no PBX {name!r} is configured (AMI_PBXS: {', '.join(p.name for p in pbxs)})")


def command_group(name: str) -> str:
    """The channel-layer group of the bridge of this PBX: a command reaches that PBX's bridge only."""
    return f"telephony.bridge.{name}"
