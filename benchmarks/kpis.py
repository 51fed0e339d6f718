"""Benchmark: every KPI for every unit on a large city's year, against a per-row Python computation.

    .venv/bin/python benchmarks/kpis.py [--scale 1.0] [--keep] [--reuse]

Creates the PostgreSQL database ``lianxin_bench`` (dropped first, and again at the end unless
--keep), migrates it and generates one year (2025) of traffic inside PostgreSQL with
INSERT … SELECT over generate_series (the fastest bulk insert: no row crosses the wire) —
at scale 1.0: 3,000,000 calls, 1,000,000 tickets, ~1.4 million assignments (leads,
sub-dispatches, redos), ~600,000 revisits over 401 units. Then it times
``kpis_for_all_units`` for June 2025 and for 2025 without and with the indexes named in
INDEXES, checks the month against a straightforward per-row Python computation, and writes
benchmarks/results/kpis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "lianxin_bench")
os.environ["DATABASE_URL"] = f"{SERVER}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import bench_db  # noqa: E402  (benchmarks/, this script's own folder)
from psycopg import sql  # noqa: E402

N_L2, N_L3_EACH, N_AGENTS = 40, 9, 120
YEAR_START = "2025-01-01 00:00:00+08"

# The model indexes that make the aggregation fast (hotline migration 0003): dropped for the first
# timing, then created again. Matched by their fields (or name) in the models' Meta.indexes.
KPI_INDEXES = (
    ("Assignment", ("reply_by",)),
    ("Assignment", ("accept_by",)),
    ("Assignment", "assignment_redo_dispatched_at"),
    ("Ticket", ("topic", "address", "created_at")),
)


def kpi_indexes():
    from hotline import models

    for model_name, key in KPI_INDEXES:
        model = getattr(models, model_name)
        for index in model._meta.indexes:
            if (isinstance(key, str) and index.name == key) or tuple(index.fields) == key:
                yield model, index


def insert_select(cursor, model, exprs: dict[str, str], source: str) -> int:
    """INSERT INTO model's table every concrete column: ``exprs`` or the field's default, from ``source``."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in exprs:
            value = sql.SQL(exprs[column])
        elif field.primary_key:
            continue
        elif field.has_default() and not callable(field.default):
            value = sql.Literal(field.get_default())
        elif field.null:
            value = sql.SQL("NULL")
        elif field.get_internal_type() in ("CharField", "TextField", "SlugField"):
            value = sql.Literal("")
        elif field.get_internal_type() == "DateTimeField":
            value = sql.SQL("now()")
        elif field.get_internal_type() == "JSONField":
            value = sql.Literal("{}")
        else:
            raise RuntimeError(f"no value for {model.__name__}.{field.name}")
        columns.append(sql.Identifier(column))
        values.append(value)
    query = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(columns), sql.SQL(", ").join(values), sql.SQL(source)
    )
    cursor.execute(query)
    return cursor.rowcount


WINDOW_DAYS = 30  # HOTLINE_REPEAT_WINDOW_DAYS's default, which the KPIs read


def generate(scale: float) -> dict[str, int]:
    from django.core.management import call_command
    from django.db import connection

    from callback.models import Revisit
    from hotline.models import Assignment, Caller, Category, Role, Ticket, Topic, Unit, User
    from hotline.seed import seed_categories, seed_topics
    from telephony.models import Call

    call_command("migrate", verbosity=0)
    seed_categories()
    seed_topics()
    center = Unit.objects.create(name="大城市12345", code="C", kind="center")
    l2 = [Unit(name=f"二级{i:02d}", code=f"L2{i:02d}", kind="department", level=2, parent=center) for i in range(N_L2)]
    l2 = Unit.objects.bulk_create(l2)
    l3 = [
        Unit(name=f"三级{i:02d}-{j}", code=f"L3{i:02d}{j}", kind="town", level=3, parent=parent)
        for i, parent in enumerate(l2)
        for j in range(N_L3_EACH)
    ]
    l3 = Unit.objects.bulk_create(l3)
    agents = User.objects.bulk_create(
        [
            User(username=f"agent{i}", role=Role.AGENT, unit=center, agent_extension=str(1000 + i))
            for i in range(N_AGENTS)
        ]
    )
    topics = list(Topic.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    category = Category.objects.get(code="complaint").pk
    n_tickets, n_calls, n_callers = int(1_000_000 * scale), int(3_000_000 * scale), int(450_000 * scale)
    counts: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE l2 (idx int, id bigint)")
        cur.execute(
            "INSERT INTO l2 SELECT * FROM unnest(%s::int[], %s::bigint[])", [list(range(N_L2)), [u.pk for u in l2]]
        )
        cur.execute("CREATE TEMP TABLE l3 (idx int, id bigint)")
        cur.execute(
            "INSERT INTO l3 SELECT * FROM unnest(%s::int[], %s::bigint[])", [list(range(len(l3))), [u.pk for u in l3]]
        )
        topic_array = "ARRAY[" + ",".join(map(str, topics)) + "]::bigint[]"
        t0 = time.perf_counter()
        counts["callers"] = insert_select(
            cur,
            Caller,
            {"phone": "'+86138' || lpad(g::text, 8, '0')", "created_at": f"'{YEAR_START}'"},
            f"generate_series(1, {n_callers}) g",
        )
        # Tickets: skewed callers (some call often), ~1 in 300 merged into the previous ticket, 1 % discarded.
        counts["tickets"] = insert_select(
            cur,
            Ticket,
            {
                "id": "g",
                "number": "'B' || lpad(g::text, 10, '0')",
                "query_code": "'000000'",
                "channel": "'phone'",
                "category_id": str(category),
                "topic_id": f"({topic_array})[1 + (g::bigint * 7919) % {len(topics)}]",
                "caller_id": f"1 + floor(power(random(), 2) * {n_callers})::bigint",
                "content": "'诉求内容'",
                "address": "'地址' || ((g::bigint * 104729) % 150000)",
                "status": "CASE WHEN g % 300 = 7 THEN 'merged' WHEN g % 100 = 3 THEN 'discarded' ELSE 'closed' END",
                "merged_into_id": "CASE WHEN g % 300 = 7 AND g > 1 THEN g - 1 END",
                "created_at": "t.at",
                "updated_at": "t.at",
            },
            f"(SELECT g, timestamptz '{YEAR_START}'"
            f" + ((g - 1)::float8 / {n_tickets} * 365 * 86400) * interval '1 second' AS at"
            f" FROM generate_series(1, {n_tickets}) g) t",
        )
        cur.execute(f"SELECT setval(pg_get_serial_sequence('hotline_ticket', 'id'), {n_tickets})")
        # Repeats are marked when a ticket is registered (hotline.services.repeats); do the same here,
        # set-based: the latest earlier non-discarded ticket of the same caller or the same address+topic.
        cur.execute("ANALYZE hotline_ticket")
        cur.execute(
            f"""
            UPDATE hotline_ticket t SET repeat_of_id = m.id FROM (
              SELECT t2.id AS tid, GREATEST(c.id, p.id) AS id FROM hotline_ticket t2
              LEFT JOIN LATERAL (SELECT e.id FROM hotline_ticket e WHERE e.caller_id = t2.caller_id
                  AND e.created_at < t2.created_at AND e.created_at >= t2.created_at - interval '{WINDOW_DAYS} days'
                  AND e.status <> 'discarded' ORDER BY e.created_at DESC LIMIT 1) c ON true
              LEFT JOIN LATERAL (SELECT e.id FROM hotline_ticket e WHERE e.topic_id = t2.topic_id
                  AND e.address = t2.address AND t2.address <> ''
                  AND e.created_at < t2.created_at AND e.created_at >= t2.created_at - interval '{WINDOW_DAYS} days'
                  AND e.status <> 'discarded' ORDER BY e.created_at DESC LIMIT 1) p ON true
            ) m WHERE m.tid = t.id AND m.id IS NOT NULL
            """
        )
        # Top-level lead assignments (id = ticket id) for 90 % of tickets.
        lead_source = (
            f"(SELECT g, t.created_at + interval '1 hour' AS d, random() AS r, random() AS r2, l2.id AS unit"
            f" FROM generate_series(1, {n_tickets}) g JOIN hotline_ticket t ON t.id = g"
            f" JOIN l2 ON l2.idx = g % {N_L2} WHERE g % 10 <> 0) s"
        )
        status = (
            "CASE WHEN s.r < 0.02 THEN 'returned' WHEN s.r < 0.03 THEN 'withdrawn'"
            " WHEN s.r < 0.05 THEN 'accepted' ELSE 'replied' END"
        )
        common = {
            "role": "'lead'",
            "accept_by": "s.d + interval '1 day'",
            "original_reply_by": "s.d + interval '10 days'",
            "reply_by": "s.d + interval '10 days' + CASE WHEN s.r2 < 0.05 THEN interval '5 days' ELSE interval '0' END",
            "accepted_at": "CASE WHEN s.r >= 0.03 THEN s.d + s.r2 * interval '30 hours' END",
            "replied_at": "CASE WHEN s.r >= 0.05 THEN s.d + s.r2 * interval '12 days' END",
            "returned_at": "CASE WHEN s.r < 0.02 THEN s.d + interval '2 hours' END",
            # About half of the withdrawn ones after their deadline (they count late).
            "withdrawn_at": "CASE WHEN s.r >= 0.02 AND s.r < 0.03 THEN s.d + s.r2 * interval '20 days' END",
            "dispatched_at": "s.d",
            "accept_hours": "9",
            "reply_days": "10",
        }
        counts["lead_assignments"] = insert_select(
            cur, Assignment, {"id": "g", "ticket_id": "g", "unit_id": "s.unit", "status": status, **common}, lead_source
        )
        # Sub-dispatches to a street of the lead (30 % of leads), ids offset by 10 × tickets.
        off = 10 * n_tickets
        sub_source = (
            f"(SELECT a.id AS g, a.dispatched_at + interval '1 hour' AS d, random() AS r, random() AS r2, l3.id AS unit"
            f" FROM hotline_assignment a"
            f" JOIN l3 ON l3.idx = (a.id % {N_L2}) * {N_L3_EACH} + (a.id / {N_L2}) % {N_L3_EACH}"
            f" WHERE a.id % 10 IN (1, 2, 3) AND a.status IN ('replied', 'accepted')) s"
        )
        counts["sub_assignments"] = insert_select(
            cur,
            Assignment,
            {
                "id": f"{off} + s.g",
                "ticket_id": "s.g",
                "unit_id": "s.unit",
                "parent_id": "s.g",
                "status": status,
                **common,
            },
            sub_source,
        )
        # Redos of 5 % of replied leads, two days after the reply, ids offset by 20 × tickets.
        redo_source = (
            "(SELECT a.id AS g, a.replied_at + interval '2 days' AS d, random() AS r, random() AS r2, a.unit_id AS unit"
            " FROM hotline_assignment a WHERE a.parent_id IS NULL AND a.status = 'replied' AND a.id % 20 = 9) s"
        )
        counts["redo_assignments"] = insert_select(
            cur,
            Assignment,
            {
                "id": f"{2 * off} + s.g",
                "ticket_id": "s.g",
                "unit_id": "s.unit",
                "reopen_of_id": "s.g",
                "status": "'replied'",
                **common,
                "accepted_at": "s.d",
                "replied_at": "s.d + s.r2 * interval '6 days'",
                "withdrawn_at": "NULL",
            },
            redo_source,
        )
        cur.execute(f"SELECT setval(pg_get_serial_sequence('hotline_assignment', 'id'), {3 * off})")
        # Revisits of 2 in 3 replied leads.
        rating = (
            "CASE WHEN s.r < 0.40 THEN 'very_satisfied' WHEN s.r < 0.75 THEN 'satisfied' WHEN s.r < 0.85"
            " THEN 'basically_satisfied' WHEN s.r < 0.92 THEN 'unsatisfied' ELSE 'very_unsatisfied' END"
        )
        counts["revisits"] = insert_select(
            cur,
            Revisit,
            {
                "ticket_id": "s.g",
                "assignment_id": "s.g",
                "unit_id": "s.unit",
                "status": "CASE WHEN s.r2 < 0.05 THEN 'cancelled' WHEN s.r2 < 0.15 THEN 'unreachable' ELSE 'done' END",
                "rating": f"CASE WHEN s.r2 < 0.15 THEN '' ELSE {rating} END",
                "completed_at": "CASE WHEN s.r2 >= 0.05 THEN s.d + interval '1 day' END",
                "excluded_from_kpi": "s.r2 > 0.99",
                "scheduled_for": "s.d + interval '1 day'",
                "created_at": "s.d",
            },
            "(SELECT a.id AS g, a.replied_at AS d, a.unit_id AS unit, random() AS r, random() AS r2"
            " FROM hotline_assignment a WHERE a.parent_id IS NULL AND a.reopen_of_id IS NULL"
            " AND a.status = 'replied' AND a.id % 3 <> 0) s",
        )
        agent_array = "ARRAY[" + ",".join(str(a.pk) for a in agents) + "]::bigint[]"
        outcome = (
            "CASE WHEN c.r < 0.90 THEN 'answered' WHEN c.r < 0.93 THEN 'abandoned' WHEN c.r < 0.95 THEN 'timeout'"
            " WHEN c.r < 0.97 THEN 'ivr_110' WHEN c.r < 0.98 THEN 'transferred_110' WHEN c.r < 0.99 THEN 'transferred'"
            " ELSE 'callback' END"
        )
        answered = "c.r < 0.90 OR (c.r >= 0.97 AND c.r < 0.99)"
        counts["calls"] = insert_select(
            cur,
            Call,
            {
                "linkedid": "'b' || c.g",
                "caller_number": "'138' || lpad((c.g % 9999999)::text, 8, '0')",
                "queue": "'12345'",
                "agent_id": f"CASE WHEN {answered} THEN ({agent_array})[1 + c.g % {N_AGENTS}] END",
                "offered_at": "c.at",
                "answered_at": f"CASE WHEN {answered} THEN c.at + c.w * interval '1 second' END",
                "ended_at": "c.at + (c.w + 150) * interval '1 second'",
                "wait_seconds": "c.w",
                "talk_seconds": f"CASE WHEN {answered} THEN 60 + (c.g::bigint * 31) % 300 END",
                "outcome": outcome,
                "created_at": "c.at",
            },
            f"(SELECT g, random() AS r, (power(random(), 3) * 90)::int AS w, timestamptz '{YEAR_START}'"
            f" + ((g - 1)::float8 / {n_calls} * 365 * 86400) * interval '1 second' AS at"
            f" FROM generate_series(1, {n_calls}) g) c",
        )
        counts["generation_seconds"] = round(time.perf_counter() - t0, 1)
        cur.execute("ANALYZE")
    return counts


# --- the straightforward per-row computation, for the equality check and the speed ratio -------


def python_kpis(period, now) -> dict[int, dict[str, tuple[int, int]]]:
    """Own (not rolled up) figures per unit, computed row by row in Python."""
    from callback.models import Revisit
    from hotline.models import Assignment, Ticket

    own: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    start, end = period.start, period.end
    for unit, status, replied_at, reply_by, withdrawn_at in Assignment.objects.filter(
        reply_by__gte=start, reply_by__lt=end
    ).values_list("unit_id", "status", "replied_at", "reply_by", "withdrawn_at"):
        withdrawn_overdue = status == "withdrawn" and withdrawn_at and withdrawn_at > reply_by
        if status == "returned" or (status == "withdrawn" and not withdrawn_overdue):
            continue
        if status in ("pending", "accepted") and reply_by > now:
            continue
        own[unit]["on_time_rate"][1] += 1
        own[unit]["on_time_rate"][0] += status == "replied" and replied_at <= reply_by
    for unit, status, accepted_at, accept_by, redo in Assignment.objects.filter(
        accept_by__gte=start, accept_by__lt=end
    ).values_list("unit_id", "status", "accepted_at", "accept_by", "reopen_of_id"):
        if redo or not (accepted_at or (status == "pending" and accept_by <= now)):
            continue
        own[unit]["acceptance_rate"][1] += 1
        own[unit]["acceptance_rate"][0] += bool(accepted_at and accepted_at <= accept_by)
    for unit, redo, dispatched_at, parent, role, status, replied_at in Assignment.objects.filter(
        dispatched_at__lt=end, dispatched_at__gte=start - timedelta(days=400)
    ).values_list("unit_id", "reopen_of_id", "dispatched_at", "parent_id", "role", "status", "replied_at"):
        if redo and start <= dispatched_at < end:
            own[unit]["reopen_rate"][0] += 1
        if parent is None and role == "lead" and status == "replied" and replied_at and start <= replied_at < end:
            own[unit]["reopen_rate"][1] += 1
    good = {"very_satisfied", "satisfied"} | (
        {"basically_satisfied"} if settings.METRICS_BASICALLY_SATISFIED_COUNTS else set()
    )
    for unit, status, rating, excluded in Revisit.objects.filter(
        completed_at__gte=start, completed_at__lt=end
    ).values_list("unit_id", "status", "rating", "excluded_from_kpi"):
        if status in ("done", "unreachable"):
            own[unit]["rating_rate"][1] += 1
            own[unit]["rating_rate"][0] += status == "done" and rating != ""
        if status == "done" and rating and not excluded:
            own[unit]["satisfaction_rate"][1] += 1
            own[unit]["satisfaction_rate"][0] += rating in good
    # Repeats: every ticket of the window before the period too, indexed by caller and by (topic, address).
    window = timedelta(days=settings.HOTLINE_REPEAT_WINDOW_DAYS)
    by_caller, by_place, in_period = defaultdict(list), defaultdict(list), []
    for pk, caller, topic, address, created, status, merged in Ticket.objects.filter(
        created_at__gte=start - window, created_at__lt=end
    ).values_list("pk", "caller_id", "topic_id", "address", "created_at", "status", "merged_into_id"):
        if status != "discarded":
            by_caller[caller].append(created)
            if address and topic:
                by_place[(topic, address)].append(created)
            if created >= start:
                in_period.append((pk, caller, topic, address, created, merged))
    repeat = {}
    for pk, caller, topic, address, created, merged in in_period:
        earlier = any(created - window <= t < created for t in by_caller[caller]) or bool(
            address and topic and any(created - window <= t < created for t in by_place[(topic, address)])
        )
        repeat[pk] = bool(merged) or earlier
    seen = set()
    for unit, ticket, status, ticket_status in Assignment.objects.filter(
        role="lead", ticket__created_at__gte=start, ticket__created_at__lt=end
    ).values_list("unit_id", "ticket_id", "status", "ticket__status"):
        if ticket not in repeat or status == "returned" or (status == "withdrawn" and ticket_status != "merged"):
            continue
        if (unit, ticket) in seen:
            continue
        seen.add((unit, ticket))
        own[unit]["repeat_rate"][1] += 1
        own[unit]["repeat_rate"][0] += repeat[ticket]
    return {unit: {k: tuple(v) for k, v in figures.items()} for unit, figures in own.items()}


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 3M calls, 1M tickets")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing benchmark database")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per query without the indexes")
    args = parser.parse_args()
    if not args.reuse:
        bench_db.recreate(SERVER, DB)
    import django

    django.setup()
    from django.db import connection

    from metrics import kpis
    from metrics.periods import Period

    counts = {} if args.reuse else generate(args.scale)
    print("generated:", counts, flush=True)
    month, year = Period.of("month", date(2025, 6, 1)), Period.of("year", date(2025, 1, 1))
    now = datetime.fromisoformat("2026-01-15T12:00:00+08:00")
    results: dict[str, object] = {"scale": args.scale, "counts": counts, "timings": {}}

    def run_all(period):
        return lambda: kpis.kpis_for_all_units(period, now=now)

    def per_kpi(period):
        units = list(kpis.Unit.objects.filter(is_active=True))
        out = {}
        for key, kpi in kpis.definitions().items():
            out[key] = guarded(lambda k=kpi: timed(lambda: k.compute_all(period, units, now), 1)[0])
        return out

    def guarded(fn) -> float | None:
        """Seconds, or None when the statement timeout stopped it."""
        from django.db import OperationalError, transaction

        try:
            with transaction.atomic():
                return round(fn(), 3)
        except OperationalError:
            return None

    with connection.schema_editor() as editor:
        for model, index in kpi_indexes():
            editor.remove_index(model, index)
    for label in ("without_indexes", "with_indexes"):
        if label == "with_indexes":
            with connection.schema_editor() as editor:
                for model, index in kpi_indexes():
                    editor.add_index(model, index)
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        runs = args.runs if label == "with_indexes" else 1
        with connection.cursor() as cur:
            # Without the indexes the year can take minutes at full scale: give up after a while.
            cur.execute(
                f"SET statement_timeout = '{args.timeout}s'"
                if label == "without_indexes"
                else "RESET statement_timeout"
            )
        results["timings"][label] = {
            "all_units_month_s": guarded(lambda n=runs: timed(run_all(month), n)[0]),
            "all_units_year_s": guarded(lambda n=runs: timed(run_all(year), n)[0]),
            "per_kpi_month_s": per_kpi(month),
            "per_kpi_year_s": per_kpi(year),
        }
        print(label, json.dumps(results["timings"][label]), flush=True)
    # Scores under every seeded evaluation scheme (metrics.scores), with the indexes; with the change
    # from the previous period, as the dashboard and the reports compute them.
    from metrics import scores

    results["scores"] = {
        scheme.code: {
            "month_s": guarded(lambda s=scheme: timed(lambda: scores.compute_scores(s, month, now=now), args.runs)[0]),
            "year_s": guarded(lambda s=scheme: timed(lambda: scores.compute_scores(s, year, now=now), args.runs)[0]),
            "month_with_change_s": guarded(
                lambda s=scheme: timed(lambda: scores.scores_with_change(s, month, now=now), args.runs)[0]
            ),
        }
        for scheme in scores.valid_schemes(month)
    }
    print("scores", json.dumps(results["scores"]), flush=True)
    # Equality and speed ratio against the per-row computation, on the month.
    sql_time, table = timed(run_all(month), 1)
    py_time, python = timed(lambda: python_kpis(month, now), 1)
    mismatches = []
    for row in table:
        for key in (
            "on_time_rate",
            "acceptance_rate",
            "reopen_rate",
            "satisfaction_rate",
            "rating_rate",
            "repeat_rate",
        ):
            got = (row["own"][key].numerator, row["own"][key].denominator)
            want = python.get(row["unit"].pk, {}).get(key, (0, 0))
            if got != want:
                mismatches.append({"unit": row["unit"].code, "kpi": key, "sql": got, "python": want})
    results["python_check"] = {
        "period": str(month),
        "sql_s": round(sql_time, 3),
        "python_per_row_s": round(py_time, 2),
        "speed_ratio": round(py_time / sql_time, 1),
        "python_year_estimate_s": round(py_time * 12, 1),
        "mismatches": mismatches[:20],
        "equal": not mismatches,
    }
    print("python check:", json.dumps(results["python_check"], ensure_ascii=False), flush=True)
    out = ROOT / "benchmarks" / "results" / "kpis.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"{'':<28}{'month (s)':>12}{'year (s)':>12}")
    for label, t in results["timings"].items():
        month_s, year_s = (t[k] if t[k] is not None else "timeout" for k in ("all_units_month_s", "all_units_year_s"))
        print(f"{label:<28}{month_s:>12}{year_s:>12}")
    print(f"per-row Python, month: {py_time:.1f} s ({py_time / sql_time:.0f}x slower); equal: {not mismatches}")
    if not args.keep:
        bench_db.drop(SERVER, DB)


if __name__ == "__main__":
    main()
