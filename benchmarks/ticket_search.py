"""Benchmark: the ticket search (hotline.search) at 1,000,000 tickets on PostgreSQL, against plain ILIKE.

    .venv/bin/python benchmarks/ticket_search.py [--scale 1.0] [--reuse] [--keep] [--runs 20]

Creates the database ``lianxin_bench_search`` (dropped first unless --reuse finds it filled),
migrates it and generates a year of tickets inside PostgreSQL (INSERT … SELECT over
generate_series, as benchmarks/kpis.py does): Chinese demands composed of places, problems,
times and requests, addresses with house numbers, callers with names. The search rows are then
written with the real tokenizer (``hotline.services.search.ticket_document``) and COPY, and the
GIN index is built once at the end, as a restore would.

Timed, each ``--runs`` times with varied words, as the search page runs them (the capped count
and the first page of 25 with its joins): a common word, a rare address, a word with filters
(status, topic, one month), a single character, a phone number, a ticket number, a caller name;
the peer is the same page done with ``icontains`` over title, content and address (what
/api/v1/tickets/?q= did before), no index. Prints a table and writes benchmarks/results/ticket_search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "lianxin_bench_search")
os.environ["DATABASE_URL"] = f"{SERVER}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import bench_db  # noqa: E402  (benchmarks/, this script's own folder)
import django  # noqa: E402
import psycopg  # noqa: E402

YEAR_START = "2025-01-01 00:00:00+08"
N_L2, N_L3_EACH = 40, 9
COUNT_CAP, PAGE = 1_000, 25  # as web/views/search.py

PLACES = [
    "小区楼下",
    "人民路",
    "建设路口",
    "幸福里小区",
    "菜市场旁",
    "学校门口",
    "公交站台",
    "河西大道",
    "老旧小区",
    "工业园区",
    "步行街",
    "滨江公园",
    "火车站广场",
    "城中村",
    "商业广场",
    "医院门口",
    "体育馆",
    "农贸市场",
    "高速出口",
    "地铁站",
    "湘江大桥",
    "韶山路",
    "岳塘新城",
    "雨湖公园",
    "九华新区",
    "红旗路",
    "板塘铺",
    "窑湾",
]
PROBLEMS = [
    "广场舞音乐太吵",
    "路灯不亮",
    "停水三天",
    "垃圾无人清运",
    "施工噪音扰民",
    "占道经营",
    "下水道堵塞",
    "井盖缺失",
    "违章停车堵路",
    "餐馆油烟污染",
    "物业乱收费",
    "拖欠农民工工资",
    "电梯经常故障",
    "房屋漏水",
    "树木遮挡视线",
    "道路破损坑洼",
    "排污口有异味",
    "流浪犬伤人",
    "燃气管道异味",
    "公交班次太少",
    "充电桩损坏",
    "噪音扰民",
    "违建加盖",
    "共享单车乱停",
    "网吧接纳未成年人",
    "药店售假药",
    "学校乱收费",
    "出租车拒载",
    "暖气不热",
    "小区停电",
    "绿化带被毁",
    "渣土车撒漏",
    "外卖电动车逆行",
    "夜市烧烤扰民",
    "楼道堆放杂物",
    "社保卡补办",
    "医保报销慢",
    "户口迁移咨询",
    "公积金提取",
    "老人补贴未发放",
]
TIMES = ["晚上十点后", "凌晨两点", "每天早上六点", "周末", "已经一周", "持续一个月", "多次反映", "今天上午", "昨天晚上"]
ASKS = ["希望尽快处理", "请相关部门核实", "要求退还费用", "请求协调解决", "严重影响休息", "存在安全隐患", "无人管理"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "建国", "建华", "桂英"]


def sql_array(items: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


def database_filled() -> bool:
    if not bench_db.exists(SERVER, DB):
        return False
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('hotline_ticketsearch') IS NOT NULL")
        if not cur.fetchone()[0]:
            return False
        cur.execute("SELECT count(*) FROM hotline_ticketsearch")
        return cur.fetchone()[0] > 0


def generate(scale: float) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    from hotline.models import Category, Role, Topic, Unit, User
    from hotline.seed import seed_categories, seed_topics

    call_command("migrate", verbosity=0)
    seed_categories()
    seed_topics()
    center = Unit.objects.create(name="大城市12345", code="C", kind="center")
    l2 = Unit.objects.bulk_create(
        [Unit(name=f"二级{i:02d}", code=f"L2{i:02d}", kind="department", level=2, parent=center) for i in range(N_L2)]
    )
    Unit.objects.bulk_create(
        [
            Unit(name=f"三级{i:02d}-{j}", code=f"L3{i:02d}{j}", kind="town", level=3, parent=p)
            for i, p in enumerate(l2)
            for j in range(N_L3_EACH)
        ]
    )
    User.objects.create(username="bench_agent", role=Role.AGENT, unit=center)
    topics = list(Topic.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    categories = list(Category.objects.values_list("pk", flat=True))
    n_tickets, n_callers = int(1_000_000 * scale), int(450_000 * scale)
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO hotline_caller (phone, name, no_revisit, no_messages, created_at)
            SELECT '+86138' || lpad(g::text, 8, '0'),
                   CASE WHEN g % 3 = 0 THEN '' ELSE ({sql_array(SURNAMES)})[1 + g % {len(SURNAMES)}]
                        || ({sql_array(GIVEN)})[1 + (g / {len(SURNAMES)}) % {len(GIVEN)}] END,
                   false, false, timestamptz '{YEAR_START}'
            FROM generate_series(1, {n_callers}) g"""
        )
        cur.execute("SELECT min(id) FROM hotline_caller")
        first_caller = cur.fetchone()[0]
        statuses = (
            "ARRAY['closed','closed','closed','closed','revisit_pending','replied',"
            "'in_progress','dispatched','registered','returned']"
        )
        cur.execute(
            f"""INSERT INTO hotline_ticket (number, query_code, channel, category_id, topic_id, caller_id, title,
                content, address, area_id, urgency, status, version, resolved_on_call, resolution,
                status_before_discard, call_linkedid, reopen_count, created_at, updated_at)
            SELECT to_char(t.at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad((g % 100000)::text, 5, '0'),
                   lpad(((g::bigint * 7919) % 1000000)::text, 6, '0'),
                   (ARRAY['phone','phone','phone','phone','wechat','app','web'])[1 + g % 7],
                   (ARRAY[{",".join(map(str, categories))}])[1 + g % {len(categories)}],
                   (ARRAY[{",".join(map(str, topics))}])[1 + (g::bigint * 31) % {len(topics)}],
                   {first_caller} + floor(power(random(), 2) * {n_callers})::bigint,
                   left(p.problem, 30),
                   p.place || p.problem || '，' || ({sql_array(TIMES)})[1 + (g / 7) % {len(TIMES)}] || '，'
                       || ({sql_array(ASKS)})[1 + (g / 11) % {len(ASKS)}] || '。',
                   p.place || (1 + (g::bigint * 104729) % 300) || '号',
                   NULL, CASE WHEN g % 13 = 0 THEN 'urgent' ELSE 'normal' END,
                   ({statuses})[1 + (g / 3) % 10], 1, false, '', '', '', 0, t.at, t.at
            FROM (SELECT g, timestamptz '{YEAR_START}' + ((g - 1)::float8 / {n_tickets} * 365 * 86400)
                      * interval '1 second' AS at FROM generate_series(1, {n_tickets}) g) t
            CROSS JOIN LATERAL (SELECT ({sql_array(PLACES)})[1 + (g::bigint * 7) % {len(PLACES)}] AS place,
                   ({sql_array(PROBLEMS)})[1 + (g::bigint * 13 + g / 1000) % {len(PROBLEMS)}] AS problem) p"""
        )
        cur.execute("ANALYZE hotline_ticket")
    took["tickets_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fill_search_rows()
    took["search_rows_s"] = time.perf_counter() - t0
    return took


def fill_search_rows() -> None:
    """The real tokenizer over every ticket, COPY into the table, then the GIN index (faster than row by row)."""
    from django.db import connection

    from hotline.lib.textsearch import document

    with connection.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS hotline_ticketsearch_tsv")
        cur.execute("TRUNCATE hotline_ticketsearch")
    connection.ensure_connection()
    # A second connection reads (a server-side cursor) while this one is in COPY mode.
    with psycopg.connect(f"{SERVER}/{DB}") as reader, reader.cursor(name="tickets") as read:
        read.itersize = 20_000
        read.execute("SELECT id, number, query_code, title, content, address, resolution FROM hotline_ticket")
        with (
            connection.connection.cursor() as write,
            write.copy("COPY hotline_ticketsearch (ticket_id, tokens) FROM STDIN") as copy,
        ):
            for pk, *texts in read:
                copy.write_row((pk, document(*texts)))
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("CREATE INDEX hotline_ticketsearch_tsv ON hotline_ticketsearch USING gin (tsv)")
        cur.execute("ANALYZE hotline_ticketsearch")
        cur.execute("ANALYZE hotline_caller")


def page_of(qs) -> tuple[int, list]:
    """What the search page reads (web/views/search.py): the page's ids with the capped count, then its rows."""
    from hotline.models import Ticket
    from hotline.search import paginate, planner_guard

    with planner_guard():
        page = paginate(qs, 1, PAGE, COUNT_CAP)
        rows = list(
            Ticket.objects.filter(pk__in=page.object_list).select_related("category", "topic__parent", "caller")
        )
    return page.paginator.count + (1 if page.capped else 0), rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def scenarios(rng: random.Random, runs: int):
    """(name, list of Criteria kwargs, whether the peer can do it)."""
    from hotline.models import Ticket, Topic

    words = [p[:4] for p in PROBLEMS]
    sample = list(
        Ticket.objects.order_by("?").values("address", "content", "status", "topic_id", "created_at")[: 2 * runs]
    )
    addresses = [t["address"] for t in sample[:runs]]
    numbers = list(Ticket.objects.order_by("?").values_list("number", flat=True)[:runs])
    phones = [f"138 {(g := rng.randint(1, 400_000)) // 10_000:04d} {g % 10_000:04d}" for _ in range(runs)]
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(runs)]
    yield "a common word in content", [{"q": rng.choice(words)} for _ in range(runs)], True
    yield "an address (place + number)", [{"q": a} for a in addresses], True
    yield (
        "word + status + topic + month",
        [  # taken from a real ticket, so at least that one matches
            {
                "q": t["content"][len(t["content"]) // 2 - 1 :][:3],
                "statuses": [t["status"]],
                "topic": Topic.objects.get(pk=t["topic_id"]),
                "created_from": (day := t["created_at"].date()).replace(day=1),
                "created_to": min(day.replace(day=1) + timedelta(days=31), date(2025, 12, 31)),
            }
            for t in sample[runs:]
        ],
        True,
    )
    yield "one character", [{"q": rng.choice("吵灯水路噪")} for _ in range(runs)], True
    yield "phone (any format)", [{"phone": p} for p in phones], False
    yield "ticket number", [{"q": n} for n in numbers], True
    yield "caller name", [{"name": n} for n in names], False


def peer(user, c):
    """The naive search: icontains over the texts (Django's ILIKE '%…%'), no index; other filters the same."""
    from django.db.models import Q

    from hotline.search import Criteria, search_tickets

    rest = {k: v for k, v in c.items() if k != "q"}
    qs = search_tickets(user, Criteria(**rest))
    term = c["q"]
    return qs.filter(
        Q(number=term) | Q(title__icontains=term) | Q(content__icontains=term) | Q(address__icontains=term)
    )


def run(runs: int, seed: int) -> list[dict]:
    from hotline.models import User
    from hotline.search import Criteria, search_tickets

    user = User.objects.get(username="bench_agent")
    rng = random.Random(seed)
    results = []
    for name, cases, has_peer in scenarios(rng, runs):
        page_of(search_tickets(user, Criteria(**cases[0])))  # warm the cache and the plan
        ours, theirs, matches = [], [], []
        for c in cases:
            t0 = time.perf_counter()
            count, _rows = page_of(search_tickets(user, Criteria(**c)))
            ours.append((time.perf_counter() - t0) * 1000)
            matches.append(count)
        if has_peer:
            for c in cases[: max(3, runs // 4)]:  # the peer is slow: a quarter of the cases
                t0 = time.perf_counter()
                page_of(peer(user, c))
                theirs.append((time.perf_counter() - t0) * 1000)
        results.append(
            {
                "scenario": name,
                "runs": len(ours),
                "median_matches": statistics.median(matches),
                "p50_ms": round(percentile(ours, 50), 1),
                "p95_ms": round(percentile(ours, 95), 1),
                "peer_runs": len(theirs),
                "peer_p50_ms": round(percentile(theirs, 50), 1) if theirs else None,
                "peer_p95_ms": round(percentile(theirs, 95), 1) if theirs else None,
            }
        )
    return results


def sizes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('hotline_ticket')),"
            " pg_size_pretty(pg_relation_size('hotline_ticketsearch') + pg_relation_size("
            "  (SELECT reltoastrelid FROM pg_class WHERE relname = 'hotline_ticketsearch'))),"
            " pg_size_pretty(pg_relation_size('hotline_ticketsearch_tsv')), (SELECT count(*) FROM hotline_ticket)"
        )
        tickets, search_table, gin, n = cur.fetchone()
    return {"tickets_table": tickets, "search_table": search_table, "gin_index": gin, "tickets": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--reuse", action="store_true", help="keep a database that is already filled")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()
    django.setup()
    took = {}
    if not (args.reuse and database_filled()):
        bench_db.recreate(SERVER, DB)
        took = generate(args.scale)
    info = sizes()
    print(
        f"{info['tickets']:,} tickets; ticket table {info['tickets_table']}, search rows {info['search_table']},"
        f" GIN index {info['gin_index']}; generated in {took or 'an earlier run'}"
    )
    results = run(args.runs, args.seed)
    head = f"{'search':34} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} {'ILIKE p50':>10} {'ILIKE p95':>10}"
    print(head)
    print("-" * len(head))
    for r in results:
        peer_cells = f"{r['peer_p50_ms']:>10} {r['peer_p95_ms']:>10}" if r["peer_runs"] else f"{'—':>10} {'—':>10}"
        print(f"{r['scenario']:34} {r['median_matches']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8} {peer_cells}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {"when": stamp, "load": os.getloadavg(), "sizes": info, "generation": took, "results": results}
    (out / "ticket_search.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    (out / f"ticket_search-{stamp}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    if not args.keep and not args.reuse:
        bench_db.drop(SERVER, DB)


if __name__ == "__main__":
    main()
