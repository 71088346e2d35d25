"""Bringing a department's existing Excel form in (一表通, issue 5 item 3).

A department has its form as an .xlsx: a title ("XX社区独居老人情况统计表（2026年10月）"),
maybe a line "填报单位：……  填报日期：……", a header of one or more rows with merged
cells, a row per unit, a total and a footer ("填报人：  审核人："). Bringing it in is three
steps:

1. `parse_form` reads the sheet: the title without its period, the header block with its
   merges (as the `layout` that `generate.to_xlsx` writes back, so reports come out in the
   department's own layout), the key columns (序号, 网格名称 …) and, per other column, its
   heading path ("人口情况/60岁以上老人数"), unit and a sample of values.
2. `propose` matches every column against the active indicators (reports.services.matching)
   and stores a FormImport: per column the candidates and a proposed choice, an existing
   indicator or a new one to collect.
3. `confirm` takes the user's decisions and creates, in one transaction, the new indicators
   really needed and the department's ReportTemplate.

The package by idea: `sheet` (the workbook read), `words` (the forms' vocabulary), `parsing`,
`guessing` (a new indicator's fields), `workflow` (who may, propose) and `confirm`.
"""

from reports.services.forms.confirm import confirm
from reports.services.forms.guessing import guess_aggregation, guess_group, new_indicator_spec
from reports.services.forms.parsing import parse_form
from reports.services.forms.sheet import FormColumn, ParsedForm
from reports.services.forms.words import guess_value_type, key_kind, level_of_heading, split_period
from reports.services.forms.workflow import FormRefused, add_figures, may_import, propose

__all__ = [
    "FormColumn",
    "FormRefused",
    "ParsedForm",
    "add_figures",
    "confirm",
    "guess_aggregation",
    "guess_group",
    "guess_value_type",
    "key_kind",
    "level_of_heading",
    "may_import",
    "new_indicator_spec",
    "parse_form",
    "propose",
    "split_period",
]
