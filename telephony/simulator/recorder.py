"""What the simulated PBX's MixMonitor does: report the recording on AMI and write a real WAV file.

As the dialplan's ``MixMonitor(<YYYYMMDD>/<Linkedid>.wav,b)`` before ``Queue()`` does on a real
Asterisk 22 (app_mixmonitor.c): ``VarSet MIXMONITOR_FILENAME`` (the absolute path under the
monitor directory) then ``MixMonitorStart`` on the caller's channel; ``MixMonitorStop`` only when
``StopMixMonitor`` runs. Like format_wav.c, the file gets its header with zero sizes when the
recording starts (answered: the ``b`` option records only while bridged) and its real sizes when
it is closed at hangup, so a file still being written looks like one. The audio is a short
committed clip (``sounds/call-sample.wav``, espeak-ng voices through sox), repeated to the
conversation's length up to ``MAX_SECONDS``: the demo plays something without filling the disk.
"""

from __future__ import annotations

import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE = Path(__file__).parent / "sounds" / "call-sample.wav"
MAX_SECONDS = 30.0
# What format_wav.c writes when it opens a file: RIFF/WAVE, PCM 8 kHz mono 16-bit, sizes 0.
_OPEN_HEADER = (
    b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00"
    b"data\x00\x00\x00\x00"
)


def snapshot(frame: str) -> list[str]:
    """The channel snapshot lines (Channel … Linkedid) of an event frame."""
    lines = frame.split("\r\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("Channel: "))
    last = next(i for i, line in enumerate(lines) if line.startswith("Linkedid: "))
    return lines[first : last + 1]


def at_priority(channel_lines: list[str], priority: int) -> list[str]:
    """The snapshot as the [choice] dialplan has it: MixMonitor at priority 2, Queue() at 3."""
    where = {"Context": "choice", "Exten": "1", "Priority": str(priority)}
    return [f"{key}: {where[key]}" if (key := line.split(":", 1)[0]) in where else line for line in channel_lines]


def frames_started(channel_lines: list[str], path: str) -> list[str]:
    varset = ["Event: VarSet", "Privilege: dialplan,all", *channel_lines]
    varset += ["Variable: MIXMONITOR_FILENAME", f"Value: {path}"]
    return ["\r\n".join(varset), "\r\n".join(["Event: MixMonitorStart", "Privilege: call,all", *channel_lines])]


def frame_stopped(channel_lines: list[str]) -> str:
    return "\r\n".join(["Event: MixMonitorStop", "Privilege: call,all", *channel_lines])


@dataclass
class Recording:
    name: str  # under the monitor directory
    path: Path  # where this simulator writes it
    channel_lines: list[str]
    began: float | None = None  # monotonic, when bridged
    stopped: float | None = None  # monotonic, StopMixMonitor


@dataclass
class Recorder:
    directory: Path  # where the files go (RECORDINGS_DIR: the monitor directory as shared with the app)
    monitor_dir: str = "/var/spool/asterisk/monitor"  # how the PBX names it in MIXMONITOR_FILENAME
    speed: float = 1.0
    live: dict[str, Recording] = field(default_factory=dict)  # by caller channel

    def start(self, linkedid: str, channel_lines: list[str], channel: str) -> list[str]:
        """MixMonitor ran on ``channel``: the frames to send, before QueueCallerJoin."""
        name = f"{time.strftime('%Y%m%d')}/{linkedid}.wav"
        self.live[channel] = Recording(
            name=name, path=self.directory / name, channel_lines=at_priority(channel_lines, 3)
        )
        return frames_started(at_priority(channel_lines, 2), f"{self.monitor_dir.rstrip('/')}/{name}")

    def bridged(self, channel: str) -> None:
        """The agent answered: the file is opened, header sizes still 0."""
        rec = self.live.get(channel)
        if rec is None:
            return
        rec.began = time.monotonic()
        rec.path.parent.mkdir(parents=True, exist_ok=True)
        rec.path.write_bytes(_OPEN_HEADER)

    def stop(self, channel: str) -> str | None:
        """StopMixMonitor: the MixMonitorStop frame, or None when nothing records that channel."""
        rec = self.live.get(channel)
        if rec is None or rec.stopped is not None:
            return None
        rec.stopped = time.monotonic()
        return frame_stopped(rec.channel_lines)

    def hung_up(self, channel: str) -> None:
        """The channel is gone: MixMonitor closes the file with its real sizes."""
        rec = self.live.pop(channel, None)
        if rec is None or rec.began is None:
            return  # never bridged: MixMonitor with b wrote nothing
        end = rec.stopped if rec.stopped is not None else time.monotonic()
        seconds = min(max(end - rec.began, 0.0) * self.speed, MAX_SECONDS)
        write_clip(rec.path, seconds)


def write_clip(path: Path, seconds: float) -> None:
    """``seconds`` of the sample conversation (repeated if need be) as an 8 kHz mono WAV at ``path``."""
    with wave.open(str(SAMPLE), "rb") as sample:
        params = sample.getparams()
        audio = sample.readframes(sample.getnframes())
    want = int(seconds * params.framerate) * params.sampwidth
    data = (audio * (want // max(len(audio), 1) + 1))[:want]
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".tmp")
    with wave.open(str(part), "wb") as out:
        out.setparams(params)
        out.writeframes(data)
    part.replace(path)
