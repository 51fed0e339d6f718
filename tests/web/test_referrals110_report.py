"""12345↔110 referrals counted per month and matter, both ways: the page and its Excel sheet."""

from __future__ import annotations

from io import BytesIO

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from hotline.models import Matter110, Referral
from hotline.services import referrals110, tickets
from metrics.referrals110 import monthly
from tests.factories import new_ticket


def test_referrals_both_ways_are_counted_per_month_and_matter(agent, dispatcher) -> None:
    system, _key = referrals110.create_system(name="湘潭市公安局110指挥中心", code="xt110", operator="市公安局")
    for n, matter in enumerate(["nuo_che", "nuo_che", "kai_suo"]):
        referrals110.receive(system, incident_number=f"I{n}", matter=matter, content="求助", phone="13800138000")
    noise = Matter110.objects.get(code="zao_yin")
    tickets.transfer_to_110(new_ticket(agent), agent, "现场有人持刀", matter=noise)
    tickets.record_call_referral(agent, "斗殴", call_linkedid="c1")  # no matter given
    month = timezone.localdate().month - 1

    lines, total = monthly(timezone.localdate().year)
    by_code = {line.code: line for line in lines}
    assert by_code["nuo_che"].from_110[month] == 2 and by_code["kai_suo"].total_from_110 == 1
    assert by_code["zao_yin"].to_110[month] == 1 and by_code[""].to_110[month] == 1
    assert total.total_from_110 == 3 and total.total_to_110 == 2 == Referral.objects.count()
    # A matter switched off later still shows the months it was used.
    Matter110.objects.filter(code="kai_suo").update(active=False)
    assert "kai_suo" in {line.code for line in monthly(timezone.localdate().year)[0]}

    client = Client()
    client.force_login(dispatcher)
    page = client.get("/referrals-110/").content.decode()
    assert "挪车" in page and "I0" in page and 'data-testid="r110-total-in"' in page
    sheet = client.get("/referrals-110/?format=xlsx")
    ws = load_workbook(BytesIO(sheet.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert next(r for r in rows if r[0] == "挪车" and r[1] == "110→12345")[-1] == 2
    assert next(r for r in rows if r[0] == "合计" and r[1] == "110→12345")[-1] == 3


def test_agents_do_not_see_the_counts(agent) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get("/referrals-110/").status_code == 403
