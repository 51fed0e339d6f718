"""Seed the demo: reference data, the 湘潭 network, its people, 60 days of history and a hot spot."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from hotline.seed import seed_reference
from hotline.seed.knowledge import seed_knowledge
from hotline.seed.xiangtan import seed_network
from metrics.hotspots import scan
from routing.seed import seed_dispatch_rules
from web import demo, demo_hotspots, demo_traffic
from web.demo_revisits import seed_revisits


class Command(BaseCommand):
    help = "Create the demo network, users and history. Safe to run again: nothing is duplicated."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tickets", type=int, default=300)
        parser.add_argument("--days", type=int, default=60)

    def handle(self, *args, tickets: int, days: int, **options) -> None:
        for report in seed_reference():
            state = "official" if report.official else "PROVISIONAL (no 调休 data yet)"
            self.stdout.write(f"calendar {report.year}: {state}, from {report.source}")
            for line in report.disagreements:
                self.stdout.write(self.style.WARNING(f"  packages disagree: {line}"))
        seed_network()
        rules = seed_dispatch_rules()
        articles = seed_knowledge()
        users = demo.seed_users()
        skills = demo.seed_skills()
        made = demo.seed_history(tickets, days)
        calls = demo_traffic.seed_calls(days)
        revisits = seed_revisits()
        cases = demo.seed_cases()
        burst = demo_hotspots.seed_hotspot_burst()
        spots = scan()
        self.stdout.write(
            f"dispatch rules: {rules}; knowledge articles: {articles}; tickets replayed: {made}; "
            f"calls: {calls}; revisits: {revisits}; hot-spot burst tickets: {burst}; hot spots found: {spots}; "
            f"agent skills (desks): {skills}; published cases: {cases}"
        )
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):"))
        for user in users:
            if user.role != "unit_handler" or user.username in ("unit_yh", "unit_yh01", "unit_yt", "unit_zjj"):
                self.stdout.write(f"  {user.username:<12} {user.role:<13} {user.unit}")
        self.stdout.write("  unit_<code>  unit_handler  every other unit (e.g. unit_cgj, unit_xtx01)")
        secrets = demo.seed_second_factors()
        if secrets:
            self.stdout.write(
                self.style.WARNING(
                    "DEMO ONLY - two-factor secrets (TOTP, 6 digits, 30 s) of the accounts whose role must use a "
                    "second factor (OTP_REQUIRED_ROLES). Add them to an authenticator app, or run "
                    "`oathtool --totp -b SECRET`. A real deployment never prints these: people enrol at first login."
                )
            )
            for username, secret in secrets:
                self.stdout.write(f"  {username:<12} {secret}")
