"""热点预警: clustering, the rolling baseline, the scan's rows and 专题督办 from a hot spot."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hotline.errors import IllegalTransition, NotAllowed
from hotline.models import SupervisionForm, TimelineEntry
from hotline.services import tickets as ticket_services
from metrics import hotspots
from metrics.lib import clusters
from metrics.models import HotSpot, HotSpotScan, HotSpotStatus
from tests.factories import new_ticket
from web.demo import CONTENTS
from web.demo_hotspots import BURSTS

ROOT = Path(__file__).resolve().parents[2]
WATER_CUT = [text for label, *_rest, text in BURSTS if label == "jiangnan-water-cut"]
FIVE = WATER_CUT[2:7]  # five calls that link to each other well above the threshold
YELLOW = [text for label, *_rest, text in BURSTS if label == "yuhulu-yellow-water"]


def burst(agent, texts, *, area="YH01", topic="0901", hours_ago=10.0, now=None):
    now = now or timezone.now()
    return [
        new_ticket(
            agent,
            topic=topic,
            area=area,
            content=text,
            address="",
            phone=f"1397320{n:04d}",
            created_at=now - timedelta(hours=hours_ago - n * 0.5),
        )
        for n, text in enumerate(texts)
    ]


# --- the method on its labelled sample ------------------------------------------------------------


def test_the_chosen_thresholds_never_join_two_incidents_on_the_labelled_sample():
    rows = [{"label": f"seed-{c}", "area": "YT01", "topic": c, "address": "", "text": t} for c, t in CONTENTS.items()]
    rows += [{"label": b[0], "area": b[1], "topic": b[2], "address": b[3], "text": b[5]} for b in BURSTS]
    rows += json.loads((ROOT / "benchmarks/data/hotspot_sample.json").read_text())["extra"]
    districts: dict[str, list] = {}
    for key, row in enumerate(rows):
        districts.setdefault(row["area"][:2], []).append(
            clusters.item(key, int(row["topic"]), row["text"], row["address"])
        )
    groups = [[it.key for it in g] for items in districts.values() for g in clusters.cluster(items)]
    scores = clusters.pair_scores(groups, {k: row["label"] for k, row in enumerate(rows)})
    assert scores["precision"] == 1.0
    assert scores["recall"] > 0.8
    # Topic and district alone would join the water cut with the yellow water and the two noises.
    by_topic: dict = {}
    for key, row in enumerate(rows):
        by_topic.setdefault((row["area"][:2], row["topic"]), []).append(key)
    assert clusters.pair_scores(list(by_topic.values()), {k: r["label"] for k, r in enumerate(rows)})["precision"] < 0.7


def test_a_paraphrase_under_another_topic_joins_only_when_it_is_close():
    a = clusters.item(1, 901, "江南小区停水，北门外的水管好像爆了，一直在冒水。")
    b = clusters.item(2, 603, "江南小区北门外路面水管爆裂，一直在冒水，小区停水了。")
    c = clusters.item(3, 603, "沿江路一排路灯都坏了，晚上走路不安全。")
    assert [len(g) for g in clusters.cluster([a, b, c])] == [2, 1]
    assert clusters.keywords([a, b])[:2]  # shared words name the group
    assert clusters.similarity(frozenset(), a.shingles) == 0.0


# --- the scan ------------------------------------------------------------------------------------


def test_a_burst_over_its_baseline_is_a_hot_spot_with_exactly_its_tickets(agent):
    now = timezone.now()
    cut = burst(agent, WATER_CUT[:6], now=now)
    other = burst(agent, YELLOW, area="YH02", now=now)
    noise = burst(agent, ["小区楼下广场舞音乐太吵，晚上十点后仍未停止。"], topic="0201", now=now)
    assert hotspots.scan(now) == 1
    spot = HotSpot.objects.get()
    assert spot.status == HotSpotStatus.ACTIVE
    assert spot.district.code == "YH" and spot.topic.code == "0901"
    assert set(spot.tickets.values_list("pk", flat=True)) == {t.pk for t in cut}
    assert spot.ticket_count == 6 and spot.baseline == 0
    assert "江南" in spot.keywords and "停水" in spot.keywords
    assert spot.unit is not None  # the rules' suggestion: nobody dispatched them yet
    assert not spot.tickets.filter(pk__in=[t.pk for t in other + noise]).exists()

    # The next scan adds a new call of the same problem to the same row; nothing twice.
    later = burst(agent, WATER_CUT[6:7], hours_ago=1, now=now)
    assert hotspots.scan(now + timedelta(minutes=1)) == 1
    spot.refresh_from_db()
    assert spot.ticket_count == 7 and spot.tickets.filter(pk=later[0].pk).exists()
    assert hotspots.scan(now + timedelta(minutes=2)) == 0
    assert HotSpot.objects.count() == 1
    assert list(hotspots.shown(now)) == [spot]

    # Once its latest ticket has left the window, it ends and leaves the boards.
    assert hotspots.scan(now + timedelta(hours=25)) == 1
    spot.refresh_from_db()
    assert spot.status == HotSpotStatus.ENDED
    assert list(hotspots.shown(now + timedelta(hours=25))) == []


def test_as_many_as_usual_is_no_hot_spot(agent):
    now = timezone.now()
    # Two water tickets a day in 城正街 for the last two weeks: the usual is 2 per 24 h, so 5 is not 3×.
    for day in range(1, 15):
        burst(agent, WATER_CUT[:2], hours_ago=24 * day + 3, now=now)
    burst(agent, FIVE, now=now)
    assert hotspots.scan(now) == 0
    burst(agent, WATER_CUT[7:9] + WATER_CUT[:2], hours_ago=4, now=now)
    assert hotspots.scan(now) == 1  # 9 ≥ 3 × 2: now it is
    assert HotSpot.objects.get().baseline == pytest.approx(2.0, abs=0.2)


def test_too_few_tickets_and_discarded_ones_make_no_hot_spot(agent, dispatcher):
    now = timezone.now()
    made = burst(agent, FIVE, now=now)
    ticket_services.discard_ticket(made[0], dispatcher, "无效来电")
    assert hotspots.scan(now) == 0
    assert not HotSpot.objects.exists()


def test_the_step_scans_once_per_interval_whoever_asks(agent, settings):
    settings.HOTSPOT_SCAN_MINUTES = 10
    now = timezone.now()
    burst(agent, FIVE, now=now)
    assert hotspots.scan_step(now) == 1
    burst(agent, WATER_CUT[7:8], hours_ago=1, now=now)
    assert hotspots.scan_step(now + timedelta(minutes=5)) == 0  # claimed 5 minutes ago
    assert HotSpot.objects.get().ticket_count == 5
    assert hotspots.scan_step(now + timedelta(minutes=11)) == 1
    assert HotSpot.objects.get().ticket_count == 6
    assert HotSpotScan.objects.get().last_at == now + timedelta(minutes=11)


# --- 专题督办 from a hot spot ------------------------------------------------------------------------


def test_supervise_makes_one_special_topic_case_on_the_tickets_still_handled(agent, dispatcher, supervisor):
    now = timezone.now()
    made = burst(agent, WATER_CUT[:6], now=now)
    hotspots.scan(now)
    spot = HotSpot.objects.get()
    ticket_services.merge_ticket(made[5], made[0], agent, "同一诉求")  # counted, but not supervisable
    with pytest.raises(NotAllowed):
        hotspots.supervise(spot, agent)
    case = hotspots.supervise(spot, supervisor)
    assert case.form == SupervisionForm.SPECIAL_TOPIC
    assert set(case.tickets.values_list("pk", flat=True)) == {t.pk for t in made[:5]}
    assert case.unit == spot.unit and case.due_by > now + timedelta(days=4)
    assert "6" in case.reason and "雨湖区" in case.title
    spot.refresh_from_db()
    assert spot.status == HotSpotStatus.SUPERVISED and spot.case == case
    assert TimelineEntry.objects.filter(action="supervision.opened", ticket__in=made[:5]).count() == 5
    with pytest.raises(IllegalTransition):
        hotspots.supervise(spot, dispatcher)
    # Still shown (with its case) while its tickets are in the window; a rescan keeps it supervised.
    hotspots.scan(now + timedelta(minutes=1))
    spot.refresh_from_db()
    assert spot.status == HotSpotStatus.SUPERVISED and list(hotspots.shown(now)) == [spot]


def test_the_admin_lists_hot_spots_read_only(agent, client, django_user_model):
    burst(agent, FIVE)
    hotspots.scan()
    admin_user = django_user_model.objects.create_superuser("root_hs", "root@example.com", "x-Very-long-pass-1")
    client.force_login(admin_user)
    listing = client.get("/admin/metrics/hotspot/")
    assert listing.status_code == 200 and "江南小区" in listing.content.decode()
    spot = HotSpot.objects.get()
    page = client.get(f"/admin/metrics/hotspot/{spot.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get("/admin/metrics/hotspot/add/").status_code == 403
