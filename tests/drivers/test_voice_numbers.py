"""Numbers read the way people read them: IDs, phones and references digit by digit (1 as
yao1 in phones), amounts, counts and dates naturally."""

from __future__ import annotations

import pytest

from drivers.voice.numbers import cardinal_zh, numbers_to_en, numbers_to_zh
from drivers.voice.pinyin import to_pinyin


@pytest.mark.parametrize(("n", "words"), [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (110, "一百一十"),
    (200, "二百"), (1005, "一千零五"), (2000, "两千"), (10200, "一万零二百"),
    (20000, "两万"), (100010, "十万零一十"), (500000, "五十万"), (120000000, "一亿两千万"),
])
def test_cardinals(n, words):
    assert cardinal_zh(n) == words


@pytest.mark.parametrize(("text", "words"), [
    # phones: digit by digit, 1 as 幺
    ("13812345678", "幺三八幺二三四五六七八"),
    ("0571-87654321", "零五七幺八七六五四三二幺"),
    ("请拨打12345查询", "请拨打幺二三四五查询"),
    # ID numbers: digit by digit, 1 as 一, X spelled
    ("330106199001011234", "三三零一零六一九九零零一零一一二三四"),
    # amounts
    ("1234.50元", "一千二百三十四元五角"),
    ("0.05元", "五分"),
    ("1200.00元", "一千二百元"),
    ("不能超过 500000。", "不能超过 五十万。"),
    # dates and times
    ("2026年12月3日", "二〇二六年十二月三日"),
    ("2026-12-03", "二〇二六年十二月三日"),
    ("14:30", "十四点三十分"),
    # counts, decimals, percentages
    ("3个工作日", "三个工作日"),
    ("3.14", "三点一四"),
    ("60%", "百分之六十"),
    ("0086", "零零八六"),
])
def test_numbers_become_chinese_words(text, words):
    assert numbers_to_zh(text) == words


def test_pinyin_of_numbers():
    assert to_pinyin("手机 13812345678") == \
        "shou3 ji1 yao1 san1 ba1 yao1 er4 san1 si4 wu3 liu4 qi1 ba1"
    assert to_pinyin("2026年12月3日") == "er4 ling2 er4 liu4 nian2 shi2 er4 yue4 san1 ri4"
    assert to_pinyin("12.5元") == "shi2 er4 yuan2 wu3 jiao3"
    # a reference: letters spelled, digits one by one (1 as yi1: not a phone)
    assert to_pinyin("编号 K7Q1") == "bian1 hao4 kai4 qi1 qiu1 yi1"
    assert to_pinyin("33010619900101123X").endswith("yi1 er4 san1 ai4 ke4 si1")


def test_no_digit_reaches_the_synthesiser():
    text = "您的业务编号 ZJ-HZ-0001-7F3A，金额 1234.56 元，手机 13812345678，2026-12-03 14:05"
    assert not any(c.isdigit() for c in numbers_to_zh("金额 1234.56 元，手机 13812345678"))
    for syllable in to_pinyin(text).split():
        assert syllable[-1] in "12345" and syllable[:-1].isalpha(), syllable


@pytest.mark.parametrize(("text", "words"), [
    ("Call 13812345678", "Call one three eight one two three four five six seven eight"),
    ("Reference K7Q2-9F3A", "Reference K seven Q two nine F three A"),
    ("Paid 12.50 yuan", "Paid 12 yuan 50 fen"),
    ("on 2026-12-03", "on 3 December 2026"),
    ("within 3 working days", "within 3 working days"),
])
def test_numbers_in_english(text, words):
    assert numbers_to_en(text) == words
