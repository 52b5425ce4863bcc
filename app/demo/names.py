"""What the demo is made of: names, places, car models, phrases, and how often each stage and source occurs."""
from typing import NamedTuple

from app.models import ActivityKind as Kind
from app.models import ConsentMethod, IntentLevel, Outcome, Source, Stage


def _pairs(words: str) -> tuple[tuple[str, str], ...]:
    """Split "王wang 李li" into (hanzi, pinyin) pairs; every entry is one character and its pinyin."""
    return tuple((word[0], word[1:]) for word in words.split())


# The most common surnames first: weighted_pool() favours the head of the list, as real name counts do.
SURNAMES = _pairs(
    "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma 朱zhu 胡hu 郭guo "
    "何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song 唐tang 许xu 韩han 冯feng 邓deng 曹cao 彭peng "
    "曾zeng 肖xiao 田tian 董dong 袁yuan 潘pan 于yu 蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv "
    "丁ding 任ren 沈shen 姚yao 卢lu 姜jiang 崔cui 钟zhong 谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao "
    "贾jia 夏xia 韦wei 付fu 方fang 白bai 邹zou 孟meng 熊xiong 秦qin 邱qiu 江jiang 尹yin 薛xue 闫yan "
    "段duan 雷lei 侯hou 龙long 史shi 陶tao 黎li 贺he 顾gu 毛mao 郝hao 龚gong 邵shao"
)
GIVEN = _pairs(
    "伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan 杰jie 娟juan 涛tao "
    "明ming 超chao 秀xiu 霞xia 平ping 刚gang 英ying 华hua 文wen 玉yu 建jian 国guo 志zhi 海hai 鹏peng "
    "辉hui 斌bin 宇yu 浩hao 凯kai 俊jun 帆fan 博bo 晨chen 阳yang 欣xin 怡yi 婷ting 雪xue 琳lin 晶jing "
    "颖ying 慧hui 佳jia 嘉jia 子zi 梓zi 涵han 轩xuan 睿rui 思si 雨yu 萱xuan 诗shi 梦meng 琪qi 晓xiao "
    "红hong 春chun 兰lan 永yong 东dong 成cheng 飞fei 鑫xin 波bo 宁ning 天tian 乐le 安an 泽ze 然ran "
    "鸿hong 振zhen 德de 荣rong 婉wan 倩qian 璐lu 薇wei 昊hao 铭ming 航hang 毅yi 彬bin 峰feng"
)
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")


class City(NamedTuple):
    """A city where the brand has dealers."""

    name: str
    code: str  # dealer codes are this plus a running number: GZ01, GZ02
    province: str
    region: str  # a key of REGIONS
    district: str = ""  # the first dealer's name carries it: 广州天河恒远4S店
    time_zone: str = "Asia/Shanghai"


REGIONS = {  # code → name; the OEM's three sales regions
    "HY-SOUTH": "华南 South China",
    "HY-NORTH": "华北及西北 North & Northwest China",
    "HY-EAST": "华东 East China",
}
S, N, E = REGIONS
# The base demo's eight dealers, in this order: the first is the fixed demo accounts' dealer.
BASE_CITIES = (
    City("广州", "GZ", "广东", S, "天河"), City("深圳", "SZ", "广东", S, "南山"),
    City("北京", "BJ", "北京", N, "朝阳"), City("石家庄", "SJZ", "河北", N, "裕华"),
    City("保定", "BD", "河北", N, "竞秀"),
    # Xinjiang keeps its own clock in daily life, so "today" there really differs from Beijing's.
    City("乌鲁木齐", "WLMQ", "新疆", N, "新市", "Asia/Urumqi"),
    City("上海", "SH", "上海", E, "浦东"), City("杭州", "HZ", "浙江", E, "西湖"),
)
# Where larger demos add dealers, round robin after the base cities.
MORE_CITIES = tuple(City(name, code, province, region) for name, code, province, region in (
    ("佛山", "FS", "广东", S), ("东莞", "DG", "广东", S), ("珠海", "ZH", "广东", S), ("惠州", "HUZ", "广东", S),
    ("厦门", "XM", "福建", S), ("福州", "FZ", "福建", S), ("南宁", "NN", "广西", S), ("海口", "HK", "海南", S),
    ("长沙", "CS", "湖南", S), ("武汉", "WH", "湖北", S), ("成都", "CD", "四川", S), ("重庆", "CQ", "重庆", S),
    ("昆明", "KM", "云南", S), ("贵阳", "GY", "贵州", S), ("天津", "TJ", "天津", N), ("唐山", "TS", "河北", N),
    ("太原", "TY", "山西", N), ("郑州", "ZZ", "河南", N), ("西安", "XA", "陕西", N), ("兰州", "LZ", "甘肃", N),
    ("银川", "YC", "宁夏", N), ("西宁", "XN", "青海", N), ("呼和浩特", "HHHT", "内蒙古", N),
    ("沈阳", "SY", "辽宁", N), ("大连", "DL", "辽宁", N), ("长春", "CC", "吉林", N), ("哈尔滨", "HEB", "黑龙江", N),
    ("南京", "NJ", "江苏", E), ("苏州", "SUZ", "江苏", E), ("无锡", "WX", "江苏", E), ("常州", "CZ", "江苏", E),
    ("南通", "NT", "江苏", E), ("宁波", "NB", "浙江", E), ("温州", "WZ", "浙江", E), ("绍兴", "SX", "浙江", E),
    ("合肥", "HF", "安徽", E), ("南昌", "NC", "江西", E), ("济南", "JN", "山东", E), ("青岛", "QD", "山东", E),
    ("烟台", "YT", "山东", E),
))
# A city's second and later dealers take these in turn, then plain numbers: 成都高新恒远4S店, 成都12号恒远4S店.
DISTRICT_SUFFIXES = ("高新", "城东", "城西", "城南", "城北", "开发区", "新区", "滨江", "机场路", "中心")

# Car models of the brand, with how often buyers ask for each.
MODELS = {"HY-S5 轿车": 22, "HY-S7 轿车": 12, "HY-X5 SUV": 25, "HY-X7 SUV": 18, "HY-E3 纯电": 15, "HY-M8 MPV": 8}
PROVIDERS = {
    "oem_hotline": "恒远400热线", "brand_website": "恒远官网", "autohome": "汽车之家",
    "dongchedi": "懂车帝", "yiche": "易车",
}

# Mobile prefixes that phonenumbers accepts as Chinese mobiles; users take other ones, so the sets never meet.
CUSTOMER_PREFIXES = tuple(range(130, 140)) + (150, 151, 152, 153, 155, 156, 157, 158, 159,
                                             176, 177, 178) + tuple(range(180, 190)) + (198, 199)
USER_PREFIXES = (147, 166, 173, 175, 191, 195)

CALL_NOTES = (
    "客户对价格比较敏感，想了解金融方案", "周末有空，想带家人一起来看车", "在对比竞品，比较关注续航",
    "已加微信，发了配置表", "客户出差中，下周再联系", "关心置换补贴，旧车是一台十年的轿车",
    "想要白色顶配，问了现车情况", "对智能驾驶很感兴趣，约了试驾",
)
# (the reason's code from app.services.lead_changes.REASONS, the consultant's note)
LOST_REASONS = (
    ("bought_competitor", "已购买竞品车型"), ("price", "预算不足，暂缓购车"), ("unreachable", "多次联系无人接听"),
    ("bought_elsewhere", "客户已在其他经销商下定"), ("postponed", "家人不同意，暂不考虑"), ("postponed", "等新款上市再说"),
)
INVALID_REASONS = (("wrong_number", "空号"), ("wrong_number", "号码错误，非本人"), ("not_a_buyer", "同行询价"),
                   ("duplicate", "重复线索"))
FOLLOW_UP_PURPOSES = ("电话回访", "确认到店时间", "发送报价单", "邀约试驾", "跟进金融方案", "发送活动信息")
STAGE_PURPOSES = {Stage.INVITED: "确认到店时间", Stage.ORDERED: "交车前回访"}  # the obvious next step
APPOINTMENT_NOTES = ("客户带家人一起来", "需要准备白色现车", "客户希望试驾高速路段", "提前准备置换评估")


STAGES = {  # about 76 % open, mostly early in the funnel; 7 % delivered, 13 % lost, 4 % invalid
    Stage.NEW: 5, Stage.CONTACTED: 27, Stage.INVITED: 13, Stage.VISITED: 10, Stage.TEST_DRIVE: 8,
    Stage.NEGOTIATING: 8, Stage.ORDERED: 5, Stage.DELIVERED: 7, Stage.LOST: 13, Stage.INVALID: 4,
}
# Fewest days between arrival and now for a lead to have got this far.
MIN_AGE_DAYS = {Stage.CONTACTED: 0.05, Stage.INVITED: 0.5, Stage.VISITED: 1, Stage.TEST_DRIVE: 1,
                Stage.NEGOTIATING: 2, Stage.ORDERED: 5, Stage.DELIVERED: 12, Stage.LOST: 2, Stage.INVALID: 0.2}
SOURCES = {
    Source.OEM_HOTLINE: 8, Source.BRAND_WEBSITE: 8, Source.AUTOHOME: 14, Source.DONGCHEDI: 12, Source.YICHE: 8,
    Source.PHONE_IN: 10, Source.WALK_IN: 18, Source.AUTO_SHOW: 5, Source.REFERRAL: 6, Source.WECHAT: 8,
    Source.REPEAT_CUSTOMER: 3,
}
OEM_SOURCES = frozenset({Source.OEM_HOTLINE, Source.BRAND_WEBSITE, Source.AUTOHOME, Source.DONGCHEDI, Source.YICHE})
# The first contact is the arrival itself: the customer walks in or calls.
CONTACT_ON_ARRIVAL = frozenset({Source.WALK_IN, Source.AUTO_SHOW, Source.PHONE_IN})
RESENDS = (Source.REPEAT_CUSTOMER, Source.AUTOHOME, Source.DONGCHEDI, Source.YICHE)  # how a known person returns
CONSENT_METHODS = {
    Source.WALK_IN: ConsentMethod.WALK_IN_FORM, Source.AUTO_SHOW: ConsentMethod.WALK_IN_FORM,
    Source.AUTOHOME: ConsentMethod.PORTAL, Source.DONGCHEDI: ConsentMethod.PORTAL, Source.YICHE: ConsentMethod.PORTAL,
    Source.BRAND_WEBSITE: ConsentMethod.WEB_FORM, Source.WECHAT: ConsentMethod.WEB_FORM,
    Source.OEM_HOTLINE: ConsentMethod.PHONE, Source.PHONE_IN: ConsentMethod.PHONE, Source.REFERRAL: ConsentMethod.PHONE,
    Source.REPEAT_CUSTOMER: ConsentMethod.IMPORT,
}
H, A, B, C = IntentLevel.H, IntentLevel.A, IntentLevel.B, IntentLevel.C
_EARLY, _LATE = {H: 5, A: 30, B: 40, C: 25}, {H: 35, A: 40, B: 20, C: 5}
INTENTS = {  # O only once an order is placed; a delivered lead was H when it ordered
    Stage.NEW: _EARLY, Stage.CONTACTED: _EARLY, Stage.INVITED: _EARLY,
    Stage.VISITED: _LATE, Stage.TEST_DRIVE: _LATE, Stage.NEGOTIATING: _LATE,
    Stage.ORDERED: {IntentLevel.O: 1}, Stage.DELIVERED: {H: 1}, Stage.LOST: {A: 10, B: 40, C: 50},
    Stage.INVALID: {C: 1},
}
FOLLOW_UP_DAYS = {H: 2, A: 7, B: 14, C: 30, IntentLevel.O: 7}  # how far ahead an upcoming follow-up may fall
PATH = (Stage.CONTACTED, Stage.INVITED, Stage.VISITED, Stage.TEST_DRIVE, Stage.NEGOTIATING, Stage.ORDERED,
        Stage.DELIVERED)
LOST_DEPTH = {0: 50, 1: 20, 2: 15, 3: 10, 4: 5}  # how far along PATH a lost lead got before it was lost
MILESTONES = {  # the history entry that marks reaching each stage after the first contact
    Stage.INVITED: (Kind.STAGE_CHANGE, None, "已邀约到店"), Stage.VISITED: (Kind.VISIT, None, "客户到店看车"),
    Stage.TEST_DRIVE: (Kind.TEST_DRIVE, None, "试乘试驾"), Stage.NEGOTIATING: (Kind.NOTE, None, "已发送报价单"),
    Stage.ORDERED: (Kind.STAGE_CHANGE, None, "客户已下定"), Stage.DELIVERED: (Kind.STAGE_CHANGE, None, "已交车"),
}
OPENINGS = {  # the first contact, by how the lead arrived
    Source.WALK_IN: (Kind.VISIT, None, "展厅接待，登记客流"), Source.AUTO_SHOW: (Kind.VISIT, None, "车展现场接待"),
    Source.PHONE_IN: (Kind.CALL, Outcome.REACHED, "客户来电咨询"),
}
FIRST_CALL = (Kind.CALL, Outcome.REACHED, "首次电话联系")
WRONG_NUMBER = (Kind.CALL, Outcome.WRONG_NUMBER, "号码错误")
CLOSINGS = {Stage.LOST: (Kind.STAGE_CHANGE, None, "战败"), Stage.INVALID: (Kind.STAGE_CHANGE, None, "无效线索")}
FILLERS = ((Kind.CALL, Outcome.NO_ANSWER, "电话未接通"), (Kind.CALL, Outcome.BUSY, "占线，稍后再拨"),
           (Kind.SMS, None, "发送门店地址和优惠信息"), (Kind.WECHAT, None, "微信发送车型配置表"),
           (Kind.CALL, Outcome.REACHED, "电话回访"))
ASSIGNED = (Kind.ASSIGNMENT, None, "线索已分配给顾问")
# The fixed demo consultant's first leads, so that their day is full whatever the random draw gives:
# three fresh leads still waiting for a call, overdue and due-today follow-ups, and visits booked for today.
FIXED_PLANS = ((Stage.NEW, "fresh"),) * 3 + (
    (Stage.CONTACTED, "overdue"), (Stage.INVITED, "overdue"), (Stage.NEGOTIATING, "overdue"),
    (Stage.CONTACTED, "today"), (Stage.VISITED, "today"), (Stage.TEST_DRIVE, "today"),
    (Stage.INVITED, "visit_today"), (Stage.INVITED, "visit_today"), (Stage.CONTACTED, "upcoming"),
)


def weighted_pool(items: dict | tuple) -> list:
    """A pool to draw from with pool[int(random() * len(pool))]: cheaper than random.choices per row.

    :param items: a mapping of item → integer weight, or a sequence whose first quarter counts double.
    """
    if isinstance(items, dict):
        return [item for item, weight in items.items() for _ in range(weight)]
    head = len(items) // 4
    return list(items) + list(items[:head])


_SURNAME_POOL = weighted_pool(SURNAMES)


def person(rng) -> tuple[str, str]:
    """A Chinese name and its pinyin ("wang.fang"): a common surname and a one- or two-character given name."""
    surname, surname_pinyin = _SURNAME_POOL[int(rng.random() * len(_SURNAME_POOL))]
    given = [GIVEN[int(rng.random() * len(GIVEN))] for _ in range(1 if rng.random() < 0.35 else 2)]
    return surname + "".join(g[0] for g in given), f"{surname_pinyin}.{''.join(g[1] for g in given)}"


def mobile(prefixes: tuple[int, ...], index: int) -> str:
    """The index-th mobile number (E.164) of these prefixes: unique per index, with no retries.

    7919 is prime to 10**8, so k * 7919 mod 10**8 never repeats for the first 10**8 numbers of a prefix.
    """
    k, i = divmod(index, len(prefixes))
    return f"+86{prefixes[i]}{(k * 7919 + 12345) % 100_000_000:08d}"
