"""A job worker for production: `python manage.py run_jobs`. Run as many as you like."""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from hotline.jobs import run_once


class Command(BaseCommand):
    help = "Run the background job steps every app registered (hotline.jobs) in a loop."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="run every step once and exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between rounds")

    def handle(self, *args, once: bool, interval: float | None, **options) -> None:
        self.going_down = False
        signal.signal(signal.SIGTERM, self.handle_going_down)
        signal.signal(signal.SIGINT, self.handle_going_down)
        interval = interval if interval is not None else float(settings.JOBS_INTERVAL_SECONDS)
        while True:
            done = run_once()
            if options["verbosity"] > 1 or once:
                self.stdout.write(" ".join(f"{name}={count}" for name, count in done.items()))
            if once or self.going_down:
                return
            # Sleep in small slices so SIGTERM ends the worker between rounds, never mid-step.
            deadline = time.monotonic() + interval
            while not self.going_down and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
            if self.going_down:
                return

    def handle_going_down(self, signum, frame) -> None:
        self.going_down = True
