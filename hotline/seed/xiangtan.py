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
        area, _ = Area.objects.update_or_create(code=code, defaults={"name": name, "parent": None})
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
                    code=child_code, defaults={"name": child_name, "parent": area}
                )
                child.service_areas.add(sub_area)
    return center
