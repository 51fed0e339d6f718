"""A starting knowledge base of common consultations (demo content; each city maintains its own).

The answers describe the usual procedure and always send the caller to the responsible
unit for the current rules: an answer read out on the hotline must never be more precise
than the source it came from.
"""

from __future__ import annotations

from django.db import transaction

from hotline.models import KnowledgeArticle, KnowledgeState, Topic, Unit
from hotline.services import knowledge

# (title, keywords, topic code, unit code, answer)
ARTICLES = [
    (
        "居住证办理需要哪些材料",
        "居住证 暂住证 办证 材料",
        "1001",
        "GAJ",
        "在居住地连续居住满半年、有合法稳定就业或住所或连续就读的，可到居住地派出所或政务服务中心申领。"
        "一般需携带：本人居民身份证、近期证件照，以及合法稳定住所、就业或就读证明之一（如租房合同、劳动合同、学籍证明）。"
        "具体材料和办理时限以公安机关最新公布的办事指南为准。",
    ),
    (
        "住房公积金提取条件和办理渠道",
        "公积金 提取 取公积金 租房提取",
        "1002",
        "GJJ",
        "购买、建造、翻建、大修自住住房，偿还购房贷款本息，租房自住，离休退休等情形可申请提取。"
        "可通过住房公积金管理中心柜台、网上服务大厅或手机应用办理。所需材料因提取类型不同而异，请以住房公积金管理中心办事指南为准。",
    ),
    (
        "灵活就业人员如何参加社会保险",
        "社保 灵活就业 个体 缴费 养老保险",
        "0502",
        "RSJ",
        "灵活就业人员可持身份证到户籍地或居住地的社会保险经办机构办理参保登记，也可通过政务服务网办理，"
        "按规定的缴费基数区间自主选择缴费档次。缴费标准每年调整，以人力资源和社会保障部门公布为准。",
    ),
    (
        "被拖欠工资怎么办",
        "欠薪 拖欠工资 讨薪 工资 老板不给钱",
        "0501",
        "RSJ",
        "可先与用人单位协商；协商不成的，可向劳动保障监察机构投诉举报，或向劳动人事争议仲裁委员会申请仲裁。"
        "请保留劳动合同、考勤记录、工资条、转账记录、工作证等证据。涉及工程建设领域欠薪的，也可通过本热线登记转办。",
    ),
    (
        "义务教育阶段入学划片咨询",
        "入学 划片 学区 小学 初中 招生",
        "0701",
        "JYJ",
        "公办义务教育学校按照“相对就近、免试入学”原则划片招生，招生范围和报名时间每年由教育局公布。"
        "请关注教育局官方网站和公众号发布的当年招生公告，或向片区学校咨询。",
    ),
    (
        "医保异地就医备案",
        "医保 异地就医 备案 报销 外地看病",
        "0801",
        "YBJ",
        "跨省或市外就医前，可通过国家医保服务平台应用、医保经办窗口办理异地就医备案。"
        "未备案的，报销比例可能降低。备案类型和材料以医疗保障部门规定为准。",
    ),
    (
        "老年人疫苗接种地点和时间",
        "疫苗 接种 打疫苗 老人 流感疫苗",
        "0802",
        "WJW",
        "可到户籍地或居住地附近的社区卫生服务中心、乡镇卫生院预防接种门诊接种，接种前请携带身份证，"
        "各门诊开放时间不同，建议先电话咨询。",
    ),
    (
        "停水停电信息查询",
        "停水 停电 计划停水 检修 什么时候来水 来电",
        "0901",
        "ZLS",
        "计划性停水、停电一般会提前在供水、供电企业的官方网站、公众号和小区公告栏发布。"
        "突发停水停电可拨打供水、供电企业服务热线报修；本热线也可登记转办并跟踪。",
    ),
    (
        "燃气费价格和缴费方式",
        "燃气费 天然气 气费 涨价 缴费",
        "0903",
        "ZJJ",
        "居民用气实行阶梯气价，价格由价格主管部门核定并公示。可通过燃气公司营业厅、网上营业厅、银行代扣等方式缴费。"
        "对账单有疑问的，可要求燃气公司提供抄表和计费明细。",
    ),
    (
        "噪音扰民的处理渠道",
        "噪音 扰民 广场舞 装修 施工 夜间施工",
        "0201",
        "CGJ",
        "社会生活噪音（如广场舞、商铺喇叭）由城管或公安部门按职责处理；夜间建筑施工噪音由住建、城管部门处理。"
        "正在发生的噪音扰民可拨打110或本热线登记，我们将转交属地和相关部门处理。",
    ),
    (
        "占道经营投诉",
        "占道 摆摊 流动摊贩 占道经营",
        "0202",
        "CGJ",
        "占道经营由城市管理和综合执法部门负责查处。请提供具体地点、时段，我们将转交属地城管部门处理。",
    ),
    (
        "预付卡退费纠纷",
        "预付卡 充值卡 退费 健身房 跑路 消费纠纷",
        "0402",
        "SJJ",
        "可先与经营者协商；协商不成的，可向市场监督管理部门投诉，或通过全国12315平台提交。"
        "请保留办卡合同、付款凭证、消费记录。经营者失联且涉嫌诈骗的，可向公安机关报案。",
    ),
    (
        "食品安全问题投诉",
        "过期食品 食品安全 变质 吃坏 食物中毒",
        "0401",
        "SJJ",
        "发现过期、变质食品，请保留商品、购物小票和照片，向市场监督管理部门投诉举报。出现身体不适请先就医并保留病历。",
    ),
    (
        "不动产登记办理",
        "房产证 不动产 过户 登记",
        "1001",
        "ZRJ",
        "不动产登记可到政务服务中心不动产登记窗口或通过网上平台预约办理。所需材料因登记类型不同而异，以不动产登记中心办事指南为准。",
    ),
    (
        "公交线路调整建议",
        "公交 线路 增开 站点 公交车",
        "0601",
        "JTJ",
        "线路优化建议可通过本热线登记，交通运输部门会结合客流调查统筹研究；线路调整信息以公交公司发布为准。",
    ),
]


@transaction.atomic
def seed_knowledge() -> int:
    """Add the starting articles that are missing (matched by title), published with their owner
    unit as source; returns how many were added."""
    topics = {t.code: t for t in Topic.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    existing = set(KnowledgeArticle.objects.values_list("title", flat=True))
    added = 0
    for title, keywords, topic, unit, body in ARTICLES:
        if title in existing:
            continue
        owner = units.get(unit)
        article = KnowledgeArticle(
            title=title,
            keywords=keywords,
            topic=topics.get(topic),
            source_unit=owner,
            body=body,
            source=f"{owner.name if owner else '12345'}办事指南（演示内容）",
        )
        knowledge.save_article(article, None, "seeded")
        knowledge.move(article, KnowledgeState.REVIEWED, None, "seeded")
        knowledge.move(article, KnowledgeState.PUBLISHED, None, "seeded")
        added += 1
    return added
