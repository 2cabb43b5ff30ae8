"""A school's own subjects, as campus context for its ambiguous names (ZJU护理, 西电通信考研).

Two sources, both read from the school's configuration, so that every school gets its own words:

* its academic units (土木工程学院 → 土木工程, 土木; 计算机科学与技术学院 → 计算机科学, 计算机;
  a campus, 峨眉校区 → 峨眉), less the words every organisation has (科学, 技术, 工程, 管理 …);
* the kind of school its full and historical names say: a name with 医 (温州医科大学, 浙江医科大学)
  makes 护理/临床/口腔 campus words, 交通 or 铁道 makes 轨道/车辆/桥梁, 电子 or 电讯 makes 通信/雷达.
  The table below is about kinds of Chinese universities in general, not about any one school;
  a comprehensive university's name (南京大学) selects nothing from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from watcher.matching.lexicon import is_place, is_word

# A morpheme of a school's name → subjects such a school teaches, in the words students use.
BY_KIND: dict[str, tuple[str, ...]] = {
    "医": ("医学", "临床", "护理", "口腔", "药学", "规培", "住培", "执医", "医学生", "麻醉"),
    "中医": ("中医", "针灸", "中药", "推拿"),
    "药": ("药学", "制药", "中药"),
    "工业": ("机械", "土木", "电气", "自动化", "材料", "航天", "能源", "化工"),
    "理工": ("机械", "土木", "电气", "自动化", "材料", "化工", "光电"),
    "交通": ("轨道", "车辆", "桥梁", "交运", "土木", "机械", "电气", "铁道", "高铁"),
    "铁道": ("轨道", "车辆", "桥梁", "铁道", "土木", "高铁"),
    "铁路": ("轨道", "车辆", "桥梁", "铁道", "高铁"),
    "路矿": ("土木", "采矿", "铁道"),
    "电子": ("通信", "电子信息", "微电子", "电磁", "雷达", "集成电路"),
    "电讯": ("通信", "电磁", "雷达", "电子信息"),
    "邮电": ("通信", "电子信息", "光通信"),
    "通信": ("通信", "电子信息", "雷达"),
    "农": ("农学", "园艺", "植保", "动科", "动医", "兽医", "农业", "种子"),
    "林": ("林学", "园林", "木材"),
    "师范": ("师范生", "教资", "公费师范", "免费师范"),
    "财经": ("会计", "财会", "金融", "财税", "审计"),
    "财政": ("会计", "财税", "金融", "审计"),
    "经贸": ("国贸", "会计", "金融"),
    "政法": ("法硕", "法考", "法学"),
    "石油": ("石工", "油气", "钻井"),
    "地质": ("地质", "勘查", "勘探"),
    "矿业": ("采矿", "矿业", "安全工程"),
    "航空": ("飞行器", "航空", "航天", "空乘"),
    "航天": ("飞行器", "航天", "导弹"),
    "海洋": ("海洋", "水产", "航海"),
    "外国语": ("翻译", "小语种", "口译", "英专"),
    "外语": ("翻译", "小语种", "口译", "英专"),
    "艺术": ("美术", "设计", "艺考", "声乐"),
    "美术": ("美术", "设计", "艺考", "油画"),
    "音乐": ("声乐", "钢琴", "艺考", "作曲"),
    "体育": ("体育生", "体考", "运动训练"),
    "传媒": ("播音", "编导", "新传"),
    "民族": ("民族学",),
}
# Units that teach or house students; offices (宣传部, 招生办) say nothing about subjects.
_ACADEMIC_UNIT = re.compile("(?:学院|学部|学系|系|研究院|研究所|书院|校区)$")
# Words any school or organisation has; as context they would vouch for anything.
_GENERIC = frozenset({"科学", "技术", "工程", "管理", "研究", "国际", "继续", "教育", "继续教育", "中心", "学生", "研究生",
                      "本科生", "公共", "基础", "综合", "应用", "现代", "信息", "国家", "发展", "战略", "人文", "社会",
                      "未来", "创新", "高等", "成人", "网络", "远程", "职业", "技术学院", "新闻", "空间", "文化",
                      "艺术"})
_JOINERS = re.compile("[与和及、]")


def school_disciplines(names: Iterable[str], units: Iterable[str]) -> list[str]:
    """Subject words of the school with these full/historical ``names`` and ``units`` (both
    compact, normalised), longest first."""
    names = [n for n in names if n]
    out: set[str] = set()
    for name in names:
        for morpheme, words in BY_KIND.items():
            if morpheme in name:
                out.update(words)
    for unit in units:
        for name in sorted(names, key=len, reverse=True):
            unit = unit.removeprefix(name)
        core = _ACADEMIC_UNIT.sub("", unit) if _ACADEMIC_UNIT.search(unit) else ""
        for piece in _JOINERS.split(core):
            if len(piece) < 2 or piece in _GENERIC or piece[:2] in _GENERIC or is_place(piece):
                continue
            out.add(piece)
            # Its leading word too (土木 of 土木工程, 计算机 of 计算机科学), as students shorten it.
            lead = next((piece[:k] for k in range(min(4, len(piece) - 1), 1, -1) if is_word(piece[:k])), None)
            if lead and lead not in _GENERIC and not is_place(lead):
                out.add(lead)
    return sorted(out, key=len, reverse=True)
