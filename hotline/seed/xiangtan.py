"""A three-level network modelled on 湘潭市 (the seed's core city).

Level 2: municipal departments (湘潭 merged 34 hotlines of 28 departments into
12345) and the five counties/districts; level 3: county departments and the
towns/streets under each county/district. Names follow the real places;
leaders, liaisons and phone numbers are invented.
"""

from __future__ import annotations

from django.db import transaction

from hotline.models import Area, Unit, UnitKind

CENTER = ("XT12345", "湘潭市12345市长热线服务中心")

DEPARTMENTS = [
    ("ZJJ", "市住房和城乡建设局"),
    ("CGJ", "市城市管理和综合执法局"),
    ("STJ", "市生态环境局"),
    ("SJJ", "市市场监督管理局"),
    ("RSJ", "市人力资源和社会保障局"),
    ("JTJ", "市交通运输局"),
    ("JYJ", "市教育局"),
    ("WJW", "市卫生健康委员会"),
    ("GAJ", "市公安局"),
    ("ZRJ", "市自然资源和规划局"),
    ("SLJ", "市水利局"),
    ("NYJ", "市农业农村局"),
    ("MZJ", "市民政局"),
    ("YBJ", "市医疗保障局"),
    ("SWJ", "市商务局"),
    ("WLJ", "市文化旅游广电体育局"),
    ("YJJ", "市应急管理局"),
    ("FGW", "市发展和改革委员会"),
    ("GXJ", "市工业和信息化局"),
    ("CZJ", "市财政局"),
    ("SFJ", "市司法局"),
    ("TJJ", "市退役军人事务局"),
    ("LYJ", "市林业局"),
    ("SJZ", "市数据资源管理局"),
    ("GJJ", "市住房公积金管理中心"),
    ("XFJ", "市信访局"),
    ("ZLS", "市自来水公司"),
    ("GDJ", "国网湘潭供电公司"),
]

# District code, name, [(level-3 code, name, kind)].
DISTRICTS = [
    (
        "YH",
        "雨湖区",
        [
            ("YH01", "城正街街道", UnitKind.TOWN),
            ("YH02", "雨湖路街道", UnitKind.TOWN),
            ("YH03", "云塘街道", UnitKind.TOWN),
            ("YH04", "广场街道", UnitKind.TOWN),
            ("YH05", "窑湾街道", UnitKind.TOWN),
            ("YH06", "姜畲镇", UnitKind.TOWN),
            ("YH51", "雨湖区城市管理和综合执法局", UnitKind.COUNTY_DEPARTMENT),
            ("YH52", "雨湖区住房和城乡建设局", UnitKind.COUNTY_DEPARTMENT),
        ],
    ),
    (
        "YT",
        "岳塘区",
        [
            ("YT01", "岳塘街道", UnitKind.TOWN),
            ("YT02", "书院路街道", UnitKind.TOWN),
            ("YT03", "建设路街道", UnitKind.TOWN),
            ("YT04", "五里堆街道", UnitKind.TOWN),
            ("YT05", "东坪街道", UnitKind.TOWN),
            ("YT06", "霞城街道", UnitKind.TOWN),
            ("YT51", "岳塘区城市管理和综合执法局", UnitKind.COUNTY_DEPARTMENT),
        ],
    ),
    (
        "XTX",
        "湘潭县",
        [
            ("XTX01", "易俗河镇", UnitKind.TOWN),
            ("XTX02", "花石镇", UnitKind.TOWN),
            ("XTX03", "射埠镇", UnitKind.TOWN),
            ("XTX04", "中路铺镇", UnitKind.TOWN),
            ("XTX05", "石潭镇", UnitKind.TOWN),
            ("XTX51", "湘潭县住房和城乡建设局", UnitKind.COUNTY_DEPARTMENT),
            ("XTX52", "湘潭县市场监督管理局", UnitKind.COUNTY_DEPARTMENT),
        ],
    ),
    (
        "XX",
        "湘乡市",
        [
            ("XX01", "望春门街道", UnitKind.TOWN),
            ("XX02", "新湘路街道", UnitKind.TOWN),
            ("XX03", "昆仑桥街道", UnitKind.TOWN),
            ("XX04", "壶天镇", UnitKind.TOWN),
            ("XX05", "棋梓镇", UnitKind.TOWN),
            ("XX51", "湘乡市城市管理和综合执法局", UnitKind.COUNTY_DEPARTMENT),
        ],
    ),
    (
        "SS",
        "韶山市",
        [
            ("SS01", "清溪镇", UnitKind.TOWN),
            ("SS02", "银田镇", UnitKind.TOWN),
            ("SS03", "韶山乡", UnitKind.TOWN),
            ("SS04", "杨林乡", UnitKind.TOWN),
            ("SS51", "韶山市文化旅游局", UnitKind.COUNTY_DEPARTMENT),
        ],
    ),
]

# Approximate WGS-84 centroids (latitude, longitude) of each area: the seat of its government
# (the district's, the town's or the street office's), written from public general knowledge of
# 湘潭's geography and rounded to about 0.005° (~500 m). They are NOT surveyed and NOT boundaries:
# good enough to put a report in the right district and usually the right town/street, and to
# draw the ticket page's map. A city replaces them with its own 民政 boundary data (docs/open311.md).
CENTROIDS = {
    "YH": (27.856, 112.907),
    "YH01": (27.842, 112.910),
    "YH02": (27.853, 112.915),
    "YH03": (27.890, 112.905),
    "YH04": (27.860, 112.925),
    "YH05": (27.838, 112.925),
    "YH06": (27.870, 112.810),
    "YT": (27.860, 112.955),
    "YT01": (27.875, 112.960),
    "YT02": (27.855, 112.940),
    "YT03": (27.865, 112.950),
    "YT04": (27.860, 112.970),
    "YT05": (27.840, 112.955),
    "YT06": (27.880, 113.010),
    "XTX": (27.778, 112.951),
    "XTX01": (27.778, 112.952),
    "XTX02": (27.575, 112.775),
    "XTX03": (27.640, 112.880),
    "XTX04": (27.700, 112.740),
    "XTX05": (27.625, 112.975),
    "XX": (27.734, 112.535),
    "XX01": (27.735, 112.528),
    "XX02": (27.725, 112.540),
    "XX03": (27.745, 112.515),
    "XX04": (27.540, 112.440),
    "XX05": (27.800, 112.370),
    "SS": (27.915, 112.527),
    "SS01": (27.925, 112.525),
    "SS02": (27.880, 112.600),
    "SS03": (27.930, 112.480),
    "SS04": (27.980, 112.560),
}


def _centroid(code: str) -> dict:
    lat, lng = CENTROIDS.get(code, (None, None))
    return {"lat": lat, "lng": lng}


_SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


def _people(index: int) -> dict[str, str]:
    """Invented but stable names and numbers for a unit's leader and liaison."""
    leader = _SURNAMES[index % len(_SURNAMES)] + "主任"
    liaison = _SURNAMES[(index * 7 + 3) % len(_SURNAMES)] + "联络员"
    return {
        "leader_name": leader,
        "leader_phone": f"0731-5{index:03d}1001"[:13],
        "liaison_name": liaison,
        "liaison_phone": f"139{index:04d}{(index * 37) % 10000:04d}",
        "duty_phone": f"07315{index:03d}2002",  # 值班电话, dialled into a call as the expert on the line
    }


@transaction.atomic
def seed_network() -> Unit:
    """Create (or update) areas and units; returns the center. Idempotent."""
    counter = iter(range(1, 1000))
    center, _ = Unit.objects.update_or_create(
        code=CENTER[0], defaults={"name": CENTER[1], "kind": UnitKind.CENTER, "parent": None, **_people(0)}
    )
    for code, name in DEPARTMENTS:
        Unit.objects.update_or_create(
            code=code, defaults={"name": name, "kind": UnitKind.DEPARTMENT, "parent": center, **_people(next(counter))}
        )
    for code, name, children in DISTRICTS:
        area, _ = Area.objects.update_or_create(code=code, defaults={"name": name, "parent": None, **_centroid(code)})
        district, _ = Unit.objects.update_or_create(
            code=code, defaults={"name": name, "kind": UnitKind.DISTRICT, "parent": center, **_people(next(counter))}
        )
        district.service_areas.add(area)
        for child_code, child_name, kind in children:
            child, _ = Unit.objects.update_or_create(
                code=child_code,
                defaults={"name": child_name, "kind": kind, "parent": district, **_people(next(counter))},
            )
            if kind == UnitKind.TOWN:
                sub_area, _ = Area.objects.update_or_create(
                    code=child_code, defaults={"name": child_name, "parent": area, **_centroid(child_code)}
                )
                child.service_areas.add(sub_area)
    return center
