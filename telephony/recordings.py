"""Call recordings: what the PBX's MixMonitor wrote, where this host finds it, and how long it is kept.

The dialplan (docs/asterisk/extensions.conf) records every queue call and callback with
``MixMonitor(<YYYYMMDD>/<Linkedid>.wav,b)``: both legs mixed, only while bridged. The bridge
learns the file from ``VarSet MIXMONITOR_FILENAME`` and ``MixMonitorStart`` (the tracker's
``RecordingStarted``) and keeps a :class:`~telephony.models.Recording` beside the call.

- **Where the files are**: ``RECORDINGS_DIR``, either the PBX's monitor directory shared with
  this host, or a local directory the ``recordings.fetch`` job step fills after each call from
  ``RECORDINGS_FETCH_URL``.
- **Is it ready**: Asterisk writes a WAV's sizes into its header only when it closes the file,
  so a live call's file (or one still being copied) has a header that does not match its
  length: :func:`check_file` says "still being written" and nobody plays half a file.
- **Retention**: the ``recordings.purge`` job step deletes files older than
  ``RECORDINGS_RETENTION_DAYS``; the row stays with ``purged_at`` (nothing is hard-deleted).
- **A caller asks not to be recorded**: :func:`telephony.control.stop_recording` asks the bridge for
  ``StopMixMonitor`` and :func:`mark_stopped_on_request` marks the recording, the ticket's timeline and the audit log.

Who may hear a recording is ``hotline.access.may_hear_recording``; the file is served by
``web/api/recordings.py`` only.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import audit
from hotline.errors import Conflict, InvalidInput
from hotline.models import AuditAction, AuditEntry, User
from hotline.services import timeline
from telephony import lifecycle as lc
from telephony.models import Call, Outcome, Recording

log = logging.getLogger(__name__)

# Timeline action of a ticket whose call stopped being recorded at the caller's request.
STOPPED = "call.recording_stopped"
CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".gsm": "audio/x-gsm"}
BATCH = 500
FETCH_TIMEOUT = 30  # seconds for one file; the next round tries again
FETCH_FOR = timedelta(days=1)


class NotReady(Exception):
    """The file is not there yet, or is still being written."""


def name_for(filename: str, linkedid: str) -> str:
    """The path under the monitor directory of what MixMonitor reported (absolute, as the PBX sees it).

    Refuses anything that would leave the directory. Without a reported name (the VarSet was
    filtered out) the dialplan's own rule is used: ``<Linkedid>.wav`` at the top.
    """
    if not filename:
        return f"{linkedid}.wav"
    path = PurePosixPath(filename)
    base = PurePosixPath(settings.RECORDINGS_PBX_DIR or "/")
    if path.is_absolute():
        try:
            path = path.relative_to(base)
        except ValueError:
            path = PurePosixPath(path.name)  # outside the monitor directory: keep the name only
    if any(part in ("..", "") for part in path.parts) or not path.parts:
        raise InvalidInput(_("not a recording file name: %(name)s") % {"name": filename})
    return str(path)


def path_of(recording: Recording) -> Path:
    """The file on this host. The name was checked when stored; checked again: it stays inside the directory."""
    root = Path(settings.RECORDINGS_DIR).resolve()
    path = (root / recording.name).resolve()
    if root not in path.parents:
        raise NotReady("outside the recordings directory")
    return path


def content_type(recording: Recording) -> str:
    return CONTENT_TYPES.get(Path(recording.name).suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class FileState:
    path: Path
    size: int


def check_file(recording: Recording) -> FileState:
    """The file, if it is complete: raises :class:`NotReady` (missing, still being written) or FileNotFoundError."""
    if recording.purged_at is not None:
        raise FileNotFoundError(recording.name)
    if not recording.call.ended_at:
        raise NotReady("the call is still going on")
    if settings.RECORDINGS_FETCH_URL and recording.fetched_at is None:
        raise NotReady("not fetched from the PBX yet")
    path = path_of(recording)
    size = path.stat().st_size  # FileNotFoundError: missing
    if path.suffix.lower() == ".wav" and not _wav_complete(path, size):
        raise NotReady("the WAV header is not final yet")
    return FileState(path=path, size=size)


def _wav_complete(path: Path, size: int) -> bool:
    """Asterisk (format_wav.c ``update_header``) writes the RIFF and data sizes when it closes the file."""
    with path.open("rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return False
    (riff_size,) = struct.unpack("<I", head[4:8])
    return riff_size == size - 8


# --- what the bridge reports ---------------------------------------------------------------


def apply(call: Call, event: lc.RecordingStarted | lc.RecordingStopped, at: datetime) -> bool:
    """Record MixMonitorStart/Stop of ``call`` (idempotent). Returns whether anything changed."""
    if isinstance(event, lc.RecordingStarted):
        try:
            name = name_for(event.filename, call.linkedid)
        except InvalidInput:
            log.warning("call %s: MixMonitor file %r refused", call.linkedid, event.filename)
            return False
        recording, created = Recording.objects.get_or_create(call=call, defaults={"name": name, "started_at": at})
        if not created and event.filename and recording.name != name:
            recording.name = name
            recording.save(update_fields=["name"])
            return True
        return created
    recording = Recording.objects.filter(call=call).first()
    if recording is None or recording.stopped_at is not None:
        return False
    recording.stopped_at = at
    recording.save(update_fields=["stopped_at"])
    return True


# --- the caller asks not to be recorded ---------------------------------------------------------


def mark_stopped_on_request(agent: User, result: dict) -> Recording:
    """The PBX stopped recording the agent's call (``telephony.control.stop_recording``, whose answer is
    ``result``): mark the recording, with a timeline entry on its ticket and an audit entry."""
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(pbx=result["pbx"], pbx_epoch=result["pbx_epoch"], linkedid=result["linkedid"])
            .first()
        )
        if call is None:
            raise Conflict(_("the call is not recorded here yet; try again in a moment"))
        now = timezone.now()
        recording, _created = Recording.objects.get_or_create(
            call=call, defaults={"name": name_for(result.get("filename", ""), call.linkedid), "started_at": now}
        )
        recording.stopped_on_request = True
        recording.stopped_by = agent
        recording.stopped_at = recording.stopped_at or now
        recording.save(update_fields=["stopped_on_request", "stopped_by", "stopped_at"])
        if call.ticket_id:
            timeline.record(call.ticket, STOPPED, agent, data={"call": call.pk, "linkedid": call.linkedid})
        audit.record(
            AuditAction.RECORDING_STOPPED,
            user=agent,
            reason="the caller asked",
            subjects=[(call.ticket_id, audit.phone_token(call.caller_number))],
            data={"call": call.pk, "linkedid": call.linkedid},
        )
    return recording


# --- playback ----------------------------------------------------------------------------------

# A player asks for the file in several range requests; one playback is one audit entry: the
# request from the start, or any request when this user has no entry for it in this window.
PLAYBACK_WINDOW = timedelta(minutes=10)


def note_playback(user: User, recording: Recording, *, first_byte: int) -> None:
    call = recording.call
    recent = AuditEntry.objects.filter(
        user=user,
        action=AuditAction.RECORDING_PLAYED,
        data__recording=recording.pk,
        at__gte=timezone.now() - PLAYBACK_WINDOW,
    )
    if first_byte and recent.exists():
        return
    audit.record(
        AuditAction.RECORDING_PLAYED,
        user=user,
        reason="call recording",
        subjects=[(call.ticket_id, audit.phone_token(call.caller_number))],
        data={"recording": recording.pk, "call": call.pk, "linkedid": call.linkedid},
    )


# --- job steps ---------------------------------------------------------------------------------


def purge_expired(now: datetime | None = None) -> int:
    """Delete the files of recordings older than RECORDINGS_RETENTION_DAYS; the rows stay, marked."""
    days = settings.RECORDINGS_RETENTION_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    due = list(
        Recording.objects.filter(purged_at__isnull=True, started_at__lt=now - timedelta(days=days))
        .select_related("call")
        .order_by("started_at")[:BATCH]
    )
    purged = []
    for recording in due:
        # Claimed by a conditional update: two workers in the same round delete (and audit) it once.
        if not Recording.objects.filter(pk=recording.pk, purged_at__isnull=True).update(purged_at=now):
            continue
        try:
            path_of(recording).unlink(missing_ok=True)
        except NotReady:
            pass  # a name outside the directory was never ours to delete
        except OSError:
            log.warning("could not delete recording %s; next round tries again", recording.name, exc_info=True)
            Recording.objects.filter(pk=recording.pk).update(purged_at=None)
            continue
        purged.append(recording)
    if purged:
        audit.record(
            AuditAction.RECORDING_PURGED,
            reason="RECORDINGS_RETENTION_DAYS",
            subjects=[(r.call.ticket_id, "") for r in purged if r.call.ticket_id],
            data={"recordings": len(purged), "days": days},
        )
    return len(purged)


def fetch_pending(now: datetime | None = None) -> int:
    """RECORDINGS_FETCH_URL: copy the files of ended calls here (a .part file, renamed when whole)."""
    template = settings.RECORDINGS_FETCH_URL
    if not template:
        return 0
    now = now or timezone.now()
    # Only calls bridged to someone have a file (MixMonitor's b option); a file still absent a day after
    # the call is not coming: it stays "missing" on the ticket page instead of being asked for forever.
    bridged = Q(call__answered_at__isnull=False) | Q(call__outcome=Outcome.OUTBOUND)
    pending = (
        Recording.objects.filter(bridged, fetched_at__isnull=True, purged_at__isnull=True)
        .filter(call__ended_at__isnull=False, call__ended_at__gte=now - FETCH_FOR)
        .order_by("started_at")[:BATCH]
    )
    done = 0
    for recording in pending:
        error = ""
        try:
            _fetch(template.format(name=urllib.parse.quote(recording.name)), path_of(recording))
        except (OSError, urllib.error.URLError, NotReady, ValueError) as exc:
            error = str(exc)[:200]
        if error:
            # The PBX may still be closing the file: the next round tries again.
            if recording.fetch_error != error:
                recording.fetch_error = error
                recording.save(update_fields=["fetch_error"])
            continue
        done += Recording.objects.filter(pk=recording.pk, fetched_at__isnull=True).update(
            fetched_at=now, fetch_error=""
        )
    return done


def _fetch(url: str, target: Path) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"RECORDINGS_FETCH_URL must be http(s): {url}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own .part file per fetch (two workers may fetch the same recording), renamed into place when whole.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    part = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
            while chunk := response.read(64 * 1024):
                out.write(chunk)
        if target.suffix.lower() == ".wav" and not _wav_complete(part, part.stat().st_size):
            raise NotReady("the PBX's file is still being written")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
