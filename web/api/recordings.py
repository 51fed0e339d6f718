"""Call recordings, played in the browser: only through this view, only to who may hear them, every playback audited.

Nothing under RECORDINGS_DIR is served by a public path. The view checks
``hotline.access.may_hear_recording`` (supervisors, quality checkers, the agent who took the
call), that the file is whole (``telephony.recordings.check_file``), notes the playback in the
audit log, and sends the file or the byte range the player asks for (``web.api.files``).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from hotline.access import may_hear_recording
from hotline.errors import Conflict, NotAllowed
from telephony import recordings
from telephony.models import Recording
from web.api.files import AnyAccept, RangeNotSatisfiable, parse_range, send_file


class RecordingFileView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="recordings_file",
        responses={(200, "audio/*"): OpenApiTypes.BINARY, (206, "audio/*"): OpenApiTypes.BINARY},
        description=(
            "The recording of a call (byte ranges supported), to supervisors, quality checkers and the agent "
            "who took the call; 409 while the call or the file is not finished; every playback is audited."
        ),
    )
    def get(self, request, pk: int):
        recording = get_object_or_404(Recording.objects.select_related("call__ticket"), pk=pk)
        if not may_hear_recording(request.user, recording.call.agent_id):
            raise NotAllowed(_("your role may not listen to this call's recording"))
        try:
            state = recordings.check_file(recording)
        except recordings.NotReady:
            raise Conflict(_("the recording is still being written; try again when the call has ended")) from None
        except FileNotFoundError:
            raise NotFound(_("the recording file is missing or was deleted after the retention period")) from None
        try:
            wanted = parse_range(request.headers.get("Range", ""), state.size)
        except RangeNotSatisfiable:
            wanted = None  # answered 416 by send_file; not a playback
        else:
            recordings.note_playback(request.user, recording, first_byte=wanted[0] if wanted else 0)
        prefix = settings.RECORDINGS_X_ACCEL_PREFIX
        return send_file(
            request,
            state.path,
            size=state.size,
            content_type=recordings.content_type(recording),
            filename=state.path.name,
            x_accel=prefix.rstrip("/") + "/" + recording.name if prefix else "",
        )
