"""The vocabulary of departments' forms: the lines around a header (填报单位, 填报人, 合计), a
period in a title, key columns (序号, 网格名称), the level a row names, and the value type,
group and flow-or-stock a heading implies."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from reports.models import UnitLevel, ValueType
from reports.periods import PeriodType
from reports.services.forms.sheet import _flat, _text
from reports.services.indicators import NO, YES

# Lines between the title and the header ("填报单位：XX社区  填报日期：2026年10月").
_LABELLED = re.compile(r"^[^:：]{1,12}[:：]")
SUBTITLE_WORDS = ("填报单位", "填报日期", "统计时间", "统计日期", "统计期", "单位", "制表", "报送")
FOOTER_WORDS = (
    "填报人",
    "填表人",
    "审核人",
    "审批人",
    "制表人",
    "统计人",
    "填报日期",
    "填表日期",
    "填报单位",
    "单位负责人",
    "负责人",
    "分管领导",
    "联系人",
    "联系电话",
    "备注",
    "说明",
    "注",
)
TOTAL_WORDS = ("合计", "总计", "小计", "汇总")
# Footer labels whose value is a person or a phone: kept as a label to fill in, never the
# name that happened to be in the department's copy.
_FOOTER_BLANK = (
    "填报人",
    "填表人",
    "审核人",
    "审批人",
    "制表人",
    "统计人",
    "负责人",
    "分管领导",
    "联系人",
    "联系电话",
)

# A period as a form's title writes it: "（2026年10月）", "2026年第三季度", "2026年度",
# "____年__月" (a blank form).
_BLANK = r"[_＿\s]+"
_PERIOD = re.compile(
    r"[(（]?\s*(?:\d{4}|" + _BLANK + r")\s*年\s*"
    r"(?P<part>(?:第\s*)?(?:[一二三四1-4]|" + _BLANK + r")\s*季度?|[上下]半年|"
    r"(?:\d{1,2}|" + _BLANK + r")\s*月份?(?:\s*[-—~至]\s*\d{1,2}\s*月份?)?|度)?\s*[)）]?"
)
_PERIOD_WORDS = [
    ("半年", PeriodType.HALF_YEAR),
    ("季", PeriodType.QUARTER),
    ("月", PeriodType.MONTH),
    ("年", PeriodType.YEAR),
]


def split_period(title: str) -> tuple[str, str, str]:
    """A title without its period, the title with "{period}" in its place (for the layout,
    so generated reports name their own period) and the guessed period type."""
    match = _PERIOD.search(title)
    if not match:
        for word, kind in (
            ("月报", PeriodType.MONTH),
            ("季报", PeriodType.QUARTER),
            ("半年报", PeriodType.HALF_YEAR),
            ("年报", PeriodType.YEAR),
            ("月度", PeriodType.MONTH),
            ("季度", PeriodType.QUARTER),
            ("年度", PeriodType.YEAR),
        ):
            if word in title:
                return title, title, kind
        return title, title, PeriodType.MONTH
    part = match.group("part") or ""
    kind = PeriodType.YEAR
    for word, found in _PERIOD_WORDS:
        if word in part:
            kind = found
            break
    bracketed = match.group(0).lstrip().startswith(("(", "（"))
    placeholder = "（{period}）" if bracketed else "{period}"
    plain = (title[: match.start()] + title[match.end() :]).strip()
    with_period = title[: match.start()] + placeholder + title[match.end() :]
    return plain or title, with_period.strip(), kind


# Key columns: what a row is, not a data item.
_UNIT_WORD = (
    r"(?:网格|社区|村|行政村|自然村|村居|居委会?|村\(社区\)|社区\(村\)|村\(居\)|街道|镇|乡镇|街镇"
    r"|镇街|街道\(镇\)|镇\(街道\)|乡镇\(街道\)|街道\(乡镇\)|村委会?|社区居委会|街道办事处|村民小组"
    r"|单位|填报单位|行政区划|区域)"
)
KEY_PATTERNS = [
    ("index", re.compile(r"^(?:序号|序|编号|no\.?|排序)$", re.I)),
    ("code", re.compile(rf"^{_UNIT_WORD}?(?:编码|代码|编号|代号)$")),
    ("parent", re.compile(rf"^(?:所属|上级){_UNIT_WORD}?(?:名称)?$")),
    ("name", re.compile(rf"^(?:{_UNIT_WORD}(?:名称|名)?|名称|小区名称)$")),
]
_LEVEL_WORDS = [
    ("网格", UnitLevel.GRID),
    ("街道", UnitLevel.STREET),
    ("镇", UnitLevel.STREET),
    ("乡", UnitLevel.STREET),
    ("社区", UnitLevel.COMMUNITY),
    ("村", UnitLevel.COMMUNITY),
    ("居", UnitLevel.COMMUNITY),
]


def key_kind(text: str) -> str | None:
    """index, code, parent or name for a key column's heading, else None."""
    text = unicodedata.normalize("NFKC", _flat(text)).replace(" ", "")
    for kind, pattern in KEY_PATTERNS:
        if pattern.match(text):
            return kind
    return None


def level_of_heading(text: str) -> str | None:
    for word, level in _LEVEL_WORDS:
        if word in text:
            return level
    return None


# ---- value types ----------------------------------------------------------------------------

_RATE = re.compile(r"率|比例|占比|比重|百分比|%|％")
_TEXT_WORDS = re.compile(
    r"情况说明|说明|备注|名称|地址|姓名|电话|联系方式|类型|类别|原因|内容|措施|描述"
)
_MONEY = re.compile(r"金额|资金|收入|支出|经费|资产|元$")


def guess_value_type(name: str, unit: str, samples: list) -> str:
    """integer, decimal, percentage, text or boolean, from the heading and sample values."""
    if unit in ("%", "‰") or _RATE.search(name):
        return ValueType.PERCENTAGE
    if name.startswith("是否"):
        return ValueType.BOOLEAN
    if _TEXT_WORDS.search(name):
        return ValueType.TEXT
    seen = [v for v in samples if _text(v)]
    if seen:
        words = {_text(v).lower() for v in seen}
        if all(isinstance(v, bool) for v in seen) or words <= (YES | NO) - {"0", "1"}:
            return ValueType.BOOLEAN
        kinds = set()
        for value in seen:
            if isinstance(value, bool):
                kinds.add("text")
            elif isinstance(value, int):
                kinds.add("integer")
            elif isinstance(value, float):
                kinds.add("integer" if value.is_integer() else "decimal")
            else:
                text = _text(value).replace(",", "").replace("，", "")
                if text.endswith(("%", "％")):
                    return ValueType.PERCENTAGE
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    kinds.add("text")
                    continue
                kinds.add("integer" if number == number.to_integral_value() else "decimal")
        if "text" in kinds:
            return ValueType.TEXT
        if "decimal" in kinds:
            return ValueType.DECIMAL
        return (
            ValueType.DECIMAL if _MONEY.search(name) or unit.endswith("元") else ValueType.INTEGER
        )
    if _MONEY.search(name) or unit.endswith("元") or unit in ("平方千米", "平方米", "亩", "公顷"):
        return ValueType.DECIMAL
    return ValueType.INTEGER


# ---- propose --------------------------------------------------------------------------------

# Keywords of the indicator groups (reports.services.indicators.GROUPS), tried in order.
GROUP_WORDS = [
    ("leadership", re.compile(r"党员|党组织|党支部|支部|书记|党建|两委")),
    ("organisation", re.compile(r"网格员|工作人员|专职|社工|志愿者|机构|编制|人员配备|队伍")),
    ("estates", re.compile(r"小区|楼栋|楼宇|物业|业委会|住宅|房屋|院落|单元")),
    ("resident_orgs", re.compile(r"驻地|驻区|企业|学校|医院|商铺|门店|商户|单位数|机关|幼儿园")),
    ("economy", re.compile(r"收入|经济|资产|产值|集体|分红|经营|元")),
    ("area", re.compile(r"面积|平方|亩|公顷")),
    (
        "governance",
        re.compile(r"事件|纠纷|矛盾|走访|巡查|隐患|信访|上访|治安|案件|调解|安全|整改|排查"),
    ),
    (
        "population",
        re.compile(
            r"人口|人数|老人|老年|儿童|未成年|残疾|低保|居民|户|独居|退役|优抚|特困|留守|流动|养老|救助"
        ),
    ),
]
# Headings of flows (added up over a quarter), not stocks (read at the period's end).
_FLOW = re.compile(
    r"新增|本月|本期|当月|本季|本年|累计|发放|办理|受理|办结|走访|开展|举办|接待|调解|次数|人次"
)
