"""Golden tone-number pinyin for texts of the menu and the screens, polyphones included."""

from __future__ import annotations

import json

import pytest

from contract import resources
from drivers.voice.base import VoiceError
from drivers.voice.pinyin import espeak_input, load_overrides, to_pinyin

# Texts of config/menu.default.json, with the reading a Mandarin speaker gives them.
MENU = [
    ("住房公积金", "zhu4 fang2 gong1 ji1 jin1"),
    ("社会保险", "she4 hui4 bao3 xian3"),
    ("营业执照与许可", "ying2 ye4 zhi2 zhao4 yu3 xu3 ke3"),
    ("不动产", "bu4 dong4 chan3"),
    ("公积金提取", "gong1 ji1 jin1 ti2 qu3"),
    ("重大疾病", "zhong4 da4 ji2 bing4"),  # 重 zhong4 here, chong2 in 重新
    ("提取金额（元）", "ti2 qu3 jin1 e2 yuan2"),
    ("手机号码", "shou3 ji1 hao4 ma3"),
    ("审核通过后，钱一般在3个工作日内打到您的银行卡，请留意短信。",
     "shen3 he2 tong1 guo4 hou4 qian2 yi4 ban1 zai4 san1 ge4 gong1 zuo4 ri4 nei4 da3 dao4 "
     "nin2 de5 yin2 hang2 ka3 qing3 liu2 yi4 duan3 xin4"),
    ("公积金缴存证明", "gong1 ji1 jin1 jiao3 cun2 zheng4 ming2"),
    ("办贷款", "ban4 dai4 kuan3"),
    ("查一查公积金账户里还有多少钱。",  # 还 hai2: "still"
     "cha2 yi1 cha2 gong1 ji1 jin1 zhang4 hu4 li3 hai2 you3 duo1 shao3 qian2"),
    ("查询结果会短信发到您预留的手机号；如有疑问请拨打12345。",  # the hotline: yao1
     "cha2 xun2 jie2 guo3 hui4 duan3 xin4 fa1 dao4 nin2 yu4 liu2 de5 shou3 ji1 hao4 ru2 you3 "
     "yi2 wen4 qing3 bo1 da3 yao1 er4 san1 si4 wu3"),
    ("社保参保证明", "she4 bao3 can1 bao3 zheng4 ming2"),
    ("证明您在交社保，孩子上学、办事常要用到。",
     "zheng4 ming2 nin2 zai4 jiao1 she4 bao3 hai2 zi5 shang4 xue2 ban4 shi4 chang2 yao4 "
     "yong4 dao4"),
    ("没有单位、打零工或做小生意的人，可以自己交养老保险。",  # 单 dan1 (not the surname shan4)
     "mei2 you3 dan1 wei4 da3 ling2 gong1 huo4 zuo4 xiao3 sheng1 yi4 de5 ren2 ke3 yi3 zi4 "
     "ji3 jiao1 yang3 lao3 bao3 xian3"),
    ("社平工资60%", "she4 ping2 gong1 zi1 bai3 fen1 zhi1 liu4 shi2"),
    ("长期住在外地", "chang2 qi1 zhu4 zai4 wai4 di4"),  # 长 chang2; zhang3 in 长者
    ("备案一般当天生效，可拨打12345查询备案结果。",
     "bei4 an4 yi4 ban1 dang4 tian1 sheng1 xiao4 ke3 bo1 da3 yao1 er4 san1 si4 wu3 cha2 xun2 "
     "bei4 an4 jie2 guo3"),
    ("城乡居民医保缴费", "cheng2 xiang1 ju1 min2 yi1 bao3 jiao3 fei4"),
    ("给谁交", "gei3 shui2 jiao1"),
    ("高血压", "gao1 xue4 ya1"),
    ("恶性肿瘤", "e4 xing4 zhong3 liu2"),
    ("村里会在10个工作日内上门了解家庭情况，请保持电话畅通。",
     "cun1 li3 hui4 zai4 shi2 ge4 gong1 zuo4 ri4 nei4 shang4 men2 liao3 jie3 jia1 ting2 qing2 "
     "kuang4 qing3 bao3 chi2 dian4 hua4 chang4 tong1"),
    ("80周岁以上老人每月可领高龄津贴，家人也可以帮忙办。",
     "ba1 shi2 zhou1 sui4 yi3 shang4 lao3 ren2 mei3 yue4 ke3 ling3 gao1 ling2 jin1 tie1 jia1 "
     "ren2 ye3 ke3 yi3 bang1 mang2 ban4"),
    ("困难残疾人生活补贴和重度残疾人护理补贴，在这里申请。",
     "kun4 nan2 can2 ji2 ren2 sheng1 huo2 bu3 tie1 he2 zhong4 du4 can2 ji2 ren2 hu4 li3 bu3 "
     "tie1 zai4 zhe4 li3 shen1 qing3"),
    ("开什么证明", "kai1 shen2 me5 zheng4 ming2"),
    ("户籍证明", "hu4 ji2 zheng4 ming2"),
    ("突发重病", "tu1 fa1 zhong4 bing4"),
    ("散装食品", "san3 zhuang1 shi2 pin3"),
    ("热食类（饭菜）", "re4 shi2 lei4 fan4 cai4"),
    ("市场监管所会在10个工作日内联系您，约时间到店核查。",
     "shi4 chang3 jian1 guan3 suo3 hui4 zai4 shi2 ge4 gong1 zuo4 ri4 nei4 lian2 xi4 nin2 yue1 "
     "shi2 jian1 dao4 dian4 he2 cha2"),
    ("经营场所", "jing1 ying2 chang3 suo3"),
    ("查封情况", "cha2 feng1 qing2 kuang4"),
    ("房产证、不动产权证丢了或坏了，先预约再来补办。",
     "fang2 chan3 zheng4 bu4 dong4 chan3 quan2 zheng4 diu1 le5 huo4 huai4 le5 xian1 yu4 yue1 "
     "zai4 lai2 bu3 ban4"),
    ("补办要在网上公告15个工作日；请在预约当天带身份证到不动产登记窗口。",
     "bu3 ban4 yao4 zai4 wang3 shang4 gong1 gao4 shi2 wu3 ge4 gong1 zuo4 ri4 qing3 zai4 yu4 "
     "yue1 dang4 tian1 dai4 shen1 fen4 zheng4 dao4 bu4 dong4 chan3 deng1 ji4 chuang1 kou3"),
    ("种地的农户按面积领补贴，钱直接打到社保卡。",  # 种 zhong4: to plant
     "zhong4 di4 de5 nong2 hu4 an4 mian4 ji1 ling3 bu3 tie1 qian2 zhi2 jie1 da3 dao4 she4 "
     "bao3 ka3"),
    ("种粮面积（亩）", "zhong4 liang2 mian4 ji1 mu3"),  # override: pypinyin says zhong3
    ("宅基地建房申请", "zhai2 ji1 di4 jian4 fang2 shen1 qing3"),
    ("庄稼、茶园、果树有病虫害，预约农技员上门看看。",
     "zhuang1 jia4 cha2 yuan2 guo3 shu4 you3 bing4 chong2 hai4 yu4 yue1 nong2 ji4 yuan2 "
     "shang4 men2 kan4 kan4"),
    ("免费学技术，学完考出证书还有补贴。",
     "mian3 fei4 xue2 ji4 shu4 xue2 wan2 kao3 chu1 zheng4 shu1 hai2 you3 bu3 tie1"),
    ("中式烹调", "zhong1 shi4 peng1 tiao2"),
    ("春节后“春风行动”招聘会报名，在家门口找工作。",  # 行 xing2 here, hang2 in 银行
     "chun1 jie2 hou4 chun1 feng1 xing2 dong4 zhao1 pin4 hui4 bao4 ming2 zai4 jia1 men2 kou3 "
     "zhao3 gong1 zuo4"),
]

# Texts of config/translations/zh_CN.json, by key.
SCREENS = [
    ("app.name", "bian4 min2 fu2 wu4 zi4 zhu4 zhong1 duan1"),
    ("home.title", "nin2 hao3 huan1 ying2 zi4 zhu4 ban4 li3"),
    ("home.subtitle", "qing3 dian3 yi1 xia4 nin2 yao4 ban4 de5 shi4"),
    ("home.footer", "zui4 duo1 pao3 yi1 ci4 er4 shi2 si4 xiao3 shi2 zi4 zhu4 fu2 wu4"),
    ("services.needs_card", "xu1 yao4 shen1 fen4 zheng4"),
    ("identify.title", "qing3 ba3 shen1 fen4 zheng4 fang4 dao4 du2 ka3 qi4 shang4"),
    ("identify.reading", "zheng4 zai4 du2 ka3 qing3 bu2 yao4 yi2 dong4 shen1 fen4 zheng4"),
    ("identify.reader_fault",
     "du2 ka3 qi4 zan4 shi2 bu4 neng2 shi3 yong4 qing3 dao4 ren2 gong1 chuang1 kou3 ban4 li3"),
    ("identify.cancel", "bu4 ban4 le5 hui2 shou3 ye4"),
    ("form.optional", "ke3 yi3 bu4 tian2"),
    ("err.required", "zhe4 yi1 xiang4 bi4 xu1 tian2 xie3"),
    ("err.phone", "shou3 ji1 hao4 ma3 ying1 gai1 shi4 shi2 yi1 wei4 shu4 zi4 yi3 yi1 kai1 tou2"),
    ("err.id_length", "shen1 fen4 zheng4 hao4 ma3 ying1 gai1 shi4 shi2 ba1 wei4"),
    ("err.id_check",  # 重新 chong2 xin1
     "shen1 fen4 zheng4 hao4 ma3 bu2 dui4 qing3 he2 dui4 hou4 chong2 xin1 shu1 ru4"),
    ("confirm.title", "qing3 he2 dui4 nin2 de5 xin4 xi1"),
    ("confirm.hint", "mei2 you3 wen4 ti2 qing3 dian3 que4 ren4 ti2 jiao1"),
    ("confirm.submitting", "zheng4 zai4 ti2 jiao1 qing3 shao1 deng3"),
    ("done.title", "ban4 hao3 le5"),
    ("done.reference", "nin2 de5 ye4 wu4 bian1 hao4"),
    ("done.take_receipt", "qing3 qu3 zou3 xia4 fang1 chu1 zhi3 kou3 de5 hui2 zhi2"),
    ("done.no_receipt",
     "hui2 zhi2 mei2 neng2 da3 yin4 chu1 lai2 dan4 ye4 wu4 yi3 jing1 ban4 hao3 le5 qing3 ji4 "
     "xia4 huo4 pai1 xia4 shang4 mian4 de5 bian1 hao4 ping2 bian1 hao4 dao4 chuang1 kou3 huo4 "
     "bo1 da3 yao1 er4 san1 si4 wu3 cha2 xun2"),
    ("error.title", "bao4 qian4 zhe4 ci4 mei2 you3 ban4 cheng2"),
    ("idle.title", "nin2 hai2 zai4 ma5"),
    ("idle.continue", "wo3 hai2 zai4 ji4 xu4 ban4"),
    ("attract.touch", "qing3 dian3 yi1 xia4 ping2 mu4 kai1 shi3"),
    ("status.offline", "li2 xian4 ban4 li3 zhong1"),
    ("nav.back", "fan3 hui2"),
    ("done.reprint", "zai4 da3 yin4 yi1 ci4"),
    ("err.date", "qing3 xuan3 yi2 ge4 zheng4 que4 de5 ri4 qi1"),
]

# Polyphones the brief names, outside the shipped texts.
POLYPHONES = [
    ("银行", "yin2 hang2"),
    ("行走", "xing2 zou3"),
    ("重新", "chong2 xin1"),
    ("长者", "zhang3 zhe3"),
    ("长辈版", "zhang3 bei4 ban3"),
    ("还款", "huan2 kuan3"),  # override: pypinyin alone says hai2 kuan3
    ("请按时还款", "qing3 an4 shi2 huan2 kuan3"),
    ("乐清", "yue4 qing1"),
    ("单县", "shan4 xian4"),  # override: pypinyin alone says dan1 xian4
]


def _menu_texts() -> set[str]:
    texts: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "zh_CN" in node and isinstance(node["zh_CN"], str):
                texts.add(node["zh_CN"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(resources.default_menu_path().read_text("utf-8")))
    return texts


def test_there_are_at_least_50_golden_phrases_from_the_menu_and_the_screens():
    assert len(MENU) + len(SCREENS) >= 50
    menu = _menu_texts()
    for text, _ in MENU:
        assert text in menu, text


@pytest.mark.parametrize(("text", "expected"), MENU, ids=[t[:12] for t, _ in MENU])
def test_menu_golden(text, expected):
    assert to_pinyin(text) == expected


@pytest.mark.parametrize(("key", "expected"), SCREENS, ids=[k for k, _ in SCREENS])
def test_screen_golden(key, expected):
    catalog = json.loads((resources.translations_dir() / "zh_CN.json").read_text("utf-8"))
    assert to_pinyin(catalog[key]) == expected


@pytest.mark.parametrize(("text", "expected"), POLYPHONES, ids=[t for t, _ in POLYPHONES])
def test_polyphones(text, expected):
    assert to_pinyin(text) == expected


def test_punctuation_becomes_pauses_for_espeak():
    assert espeak_input("您好，欢迎自助办理。请点一下！") == \
        "nin2 hao3, huan1 ying2 zi4 zhu4 ban4 li3. qing3 dian3 yi1 xia4."
    assert espeak_input("，，好。。") == "hao3."


def test_latin_letters_are_spelled_in_chinese():
    assert to_pinyin("ID") == "ai4 di4"


def test_every_override_is_one_syllable_per_character_and_is_applied():
    for phrase, reading in load_overrides().items():
        assert len(reading.split()) == len(phrase), phrase
        assert to_pinyin(phrase) == reading, phrase


def test_a_bad_override_list_is_a_voice_error(tmp_path):
    bad = tmp_path / "overrides.json"
    bad.write_text(json.dumps({"还款": "huan2"}), "utf-8")
    with pytest.raises(VoiceError, match="one tone-number syllable per character"):
        load_overrides(bad)
    bad.write_text("{", "utf-8")
    with pytest.raises(VoiceError, match="cannot be read"):
        load_overrides(bad)
