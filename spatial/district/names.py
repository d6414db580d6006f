"""Vocabularies for plausible Chinese names, places of origin and businesses (vectorised sampling)."""

from __future__ import annotations

import numpy as np

# The commonest surnames, roughly by frequency (weights decay with rank).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文海波辉鹏飞宇浩然欣怡嘉琪子轩梓涵"
    "思雨晨阳佳慧俊宏婷雪琳佩珊瑞晓东峰斌彬云凯翔婉婕"
)

# County-level division codes (GB/T 2260): Longgang and Shenzhen for locals, common origins for migrants.
LOCAL_AREA_CODES = np.array([440307, 440307, 440307, 440303, 440304, 440305, 440306, 440309, 440310])
MIGRANT_AREA_CODES = np.array(
    [
        441581,
        441521,
        445281,
        445122,
        441402,
        441424,
        440823,
        440882,  # Guangdong: Shanwei, Jieyang, Meizhou, ...
        430521,
        430626,
        431028,
        430381,
        431121,  # Hunan
        450881,
        450330,
        452123,
        450922,  # Guangxi
        360732,
        360124,
        362329,  # Jiangxi
        510921,
        511381,
        513701,  # Sichuan
        411528,
        411381,
        412726,  # Henan
        421182,
        420624,
        422802,  # Hubei
        350583,
        352225,
        340822,
        370282,
        500230,  # Fujian, Anhui, Shandong, Chongqing
    ]
)

BRAND_CHARS = list("华鑫腾达盛丰源恒泰宏兴利嘉诚信德安康美联合创新科技智博远景龙凤福祥瑞和顺通")
COMPANY_INDUSTRIES = {
    "manufacturing": ("电子", "精密制造", "塑胶制品", "五金"),
    "technology": ("科技", "信息技术", "软件"),
    "trade": ("贸易", "进出口", "供应链"),
    "logistics": ("物流", "仓储"),
    "construction": ("建筑工程", "装饰工程"),
    "services": ("物业管理", "人力资源", "咨询"),
}
SHOP_INDUSTRIES = {
    "catering": ("餐饮店", "快餐店", "茶餐厅", "粉面店"),
    "retail": ("便利店", "百货店", "水果店", "五金店"),
    "personal_services": ("理发店", "洗衣店", "维修店", "快递点"),
    "health": ("药店", "诊所"),
}


def pick(
    rng: np.random.Generator, choices: list[str] | np.ndarray, size: int, decay: float | None = None
) -> np.ndarray:
    """`size` draws from `choices`; with `decay`, earlier choices are likelier (Zipf-like)."""
    options = np.asarray(choices, dtype=object)
    if decay is None:
        return options[rng.integers(0, len(options), size)]
    weights = 1.0 / np.arange(1, len(options) + 1) ** decay
    return options[rng.choice(len(options), size, p=weights / weights.sum())]


def person_names(rng: np.random.Generator, size: int) -> np.ndarray:
    surname = pick(rng, SURNAMES, size, decay=0.9)
    first = pick(rng, GIVEN_CHARS, size)
    second = pick(rng, GIVEN_CHARS, size)
    two_chars = rng.random(size) < 0.75
    return surname + first + np.where(two_chars, second, "")


def business_names(rng: np.random.Generator, kinds: np.ndarray, industries: np.ndarray) -> np.ndarray:
    size = len(kinds)
    brand = pick(rng, BRAND_CHARS, size) + pick(rng, BRAND_CHARS, size)
    words = np.empty(size, dtype=object)
    for industry, options in {**COMPANY_INDUSTRIES, **SHOP_INDUSTRIES}.items():
        mask = industries == industry
        words[mask] = pick(rng, list(options), int(mask.sum()))
    company = "深圳市" + brand + words + "有限公司"
    shop = "龙岗区" + brand + words
    return np.where(kinds == "company", company, shop)
