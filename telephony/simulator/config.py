"""What one simulator serves and generates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from telephony.simulator.traffic import DEFAULT_MIX
from telephony.traces import TRACES_DIR


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 15038
    username: str = "hotline"
    secret: str = field(default="hotline-secret", repr=False)
    calls_per_minute: float = 6.0
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    queue: str = "12345"  # the general queue
    # Every queue (desk) the PBX has, the general one first; empty = whatever QueueAdd names.
    queues: tuple[str, ...] = ()
    # Share of generated callers routed to each desk (专席) by the IVR key or their history, and how
    # long they wait there before overflowing to the general queue (AMI_DESK_WAIT_SECONDS).
    desks: dict[str, float] = field(default_factory=dict)
    desk_wait: float = 30.0
    # Members the PBX has at boot, ready (persistentmembers=yes keeps them across restarts);
    # the rest log in from their consoles (QueueAdd).
    agents: tuple[str, ...] = ()
    speed: float = 1.0  # 2.0 = twice as fast as the recordings
    seed: int | None = None
    traces_dir: Path = TRACES_DIR
    generate: bool = True
    # (min, max) seconds, drawn uniformly per call. talk None = the recorded ~3 s; patience None =
    # callers wait until the queue's timeout (the dialplan's Queue(12345,,,,60)).
    talk: tuple[float, float] | None = None
    patience: tuple[float, float] | None = None
    queue_timeout: float = 60.0
    # Seconds after a call before the member is rung again (queues.conf wrapuptime).
    wrapup: float = 0.0
    # Hourly multipliers of calls_per_minute in Asia/Shanghai time; None = flat.
    day_curve: tuple[float, ...] | None = None
    # IVR survey calls (an Originate into survey_context): the key the citizen presses; "" = hangs up without one.
    survey_context: str = "survey"
    survey_variable: str = "HOTLINE_SURVEY_RESULT"
    survey_digit: str = "1"
    # MixMonitor of every queue call (simulator/recorder.py): where the WAV files are written (the
    # PBX's monitor directory as this host sees it); None = not recorded. monitor_dir: the PBX's name for it.
    recordings_dir: Path | None = None
    monitor_dir: str = "/var/spool/asterisk/monitor"
    # The dialplan the simulated PBX has (docs/asterisk/extensions.conf): a Redirect elsewhere is
    # answered "Redirect successful" and the caller is hung up, as Asterisk does.
    target_110: tuple[str, str] = ("emergency", "110")
    threeway_context: str = "threeway"
    threeway_dial_context: str = "threeway-dial"
    threeway_unit_context: str = "threeway-unit"
    # Whether 110 answers a three-way call (False: busy, the agent is back with the caller).
    threeway_answers: bool = True
    # Call controls (docs/asterisk/extensions.conf [hotline-hold] ... [hotline-transfer]); numbers the
    # simulated phone network finds busy or unreachable (the rest answer after 2 s, as recorded).
    hold_context: str = "hotline-hold"
    unhold_context: str = "hotline-unhold"
    transfer_context: str = "hotline-transfer"
    busy_numbers: tuple[str, ...] = ("073155550000",)
    unreachable_numbers: tuple[str, ...] = ("073155559999",)
    # Modules AMI ModuleCheck reports as not loaded (e.g. app_confbridge of a PBX without confbridge.conf).
    missing_modules: tuple[str, ...] = ()

    def rate_now(self, hour: int) -> float:
        """Calls per second at this local hour."""
        factor = self.day_curve[hour % 24] if self.day_curve else 1.0
        return max(self.calls_per_minute * factor, 1e-6) / 60.0
