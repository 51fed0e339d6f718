"""A citizen's request about their personal data (docs/security.md §10): export what is held
about a phone number, or correct the caller's name or a ticket's address. Both are audited.

    manage.py citizen_data export --phone 13800138000 --by supervisor --reason "申请编号 2026-17" [--out f.xlsx|f.json]
    manage.py citizen_data correct --phone 13800138000 --by supervisor --reason "…" --name 王建国
    manage.py citizen_data correct --phone 13800138000 --by supervisor --reason "…" --ticket 2026112900001 --address "…"
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from openpyxl import Workbook

from hotline.errors import DomainError
from hotline.models import User
from hotline.services.citizens import correct_citizen, export_citizen


class Command(BaseCommand):
    help = "Export or correct what is held about a citizen's phone number (audited)."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="act", required=True)
        for name in ("export", "correct"):
            p = sub.add_parser(name)
            p.add_argument("--phone", required=True, help="the citizen's number, any form (or its anon- token)")
            p.add_argument("--by", required=True, help="username of the supervisor or administrator answering")
            p.add_argument("--reason", required=True, help="the request this answers (its reference)")
        export = sub._name_parser_map["export"]
        export.add_argument("--out", default="", help="a .json or .xlsx file; default: JSON on standard output")
        correct = sub._name_parser_map["correct"]
        correct.add_argument("--name", default=None)
        correct.add_argument("--address", default=None)
        correct.add_argument("--ticket", default="", help="the ticket whose address is corrected")

    def handle(self, *args, act: str, phone: str, by: str, reason: str, **options) -> None:
        user = User.objects.filter(username=by, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {by!r}")
        try:
            if act == "export":
                self._export(export_citizen(phone, by=user, reason=reason), options["out"])
            else:
                changed = correct_citizen(
                    phone,
                    by=user,
                    reason=reason,
                    name=options["name"],
                    address=options["address"],
                    ticket_number=options["ticket"],
                )
                self.stdout.write("corrected: " + (", ".join(changed) or "nothing (the values were already so)"))
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _export(self, held: dict[str, Any], out: str) -> None:
        if not out:
            self.stdout.write(json.dumps(held, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            return
        path = Path(out)
        if path.suffix == ".json":
            path.write_text(json.dumps(held, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2), encoding="utf-8")
        elif path.suffix == ".xlsx":
            write_workbook(held, path)
        else:
            raise CommandError("--out must end in .json or .xlsx")
        self.stdout.write(f"written: {path}")


def write_workbook(held: dict[str, Any], path: Path) -> None:
    """One sheet per section; every value a text cell (a citizen's "=…" stays text, not a formula)."""
    book = Workbook()
    book.remove(book.active)
    sections = {"caller": [held["caller"]], **{k: v for k, v in held.items() if k != "caller"}}
    for title, rows in sections.items():
        sheet = book.create_sheet(title)
        if title == "tickets":
            rows = [{**row, "timeline": _text(row["timeline"])} for row in rows]
        columns = list(rows[0]) if rows else []
        for c, column in enumerate(columns, start=1):
            _put(sheet, 1, c, column)
        for r, row in enumerate(rows, start=2):
            for c, column in enumerate(columns, start=1):
                _put(sheet, r, c, _text(row[column]))
    book.save(path)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return str(value)


def _put(sheet, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"
    if value.startswith(("=", "+", "-", "@")):
        cell.quotePrefix = True
