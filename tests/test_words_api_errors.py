"""Issue 15, section 8, "no English on a Chinese page", for the API's own refusals: the ledger's
"say which grid, community or street", the export's layer and format, the incident figures'
grouping and period, and the sensor registry's checks reach the page in Chinese, naming the
same field, with the same machine-readable code."""

from __future__ import annotations

import pytest
from django.utils import translation

from grids.problems import ProblemsError
from reports.services import forms
from sensors.services import types
from tests.test_import_words import assert_chinese


def errors_of(response) -> list[dict]:
    assert response.status_code in (400, 403, 404), (response.status_code, response.content)
    return response.json()["errors"]


def test_the_ledger_without_a_unit_says_so_in_chinese(users, api):
    """The reproduction of the issue: the ledger page's refusal was English."""
    errors = errors_of(api(users.community).get("/api/reports/ledger/"))
    assert [e["field"] for e in errors] == ["unit"]
    assert errors[0]["message"] == "请指明网格、社区或街道（填写其代码）"
    assert_chinese(errors[0]["message"])


def test_a_ledger_unit_out_of_reach_is_absent_in_chinese_without_its_code(users, api, tree):
    other = tree.grids[(2, 2, 2)].code
    response = api(users.community).get("/api/reports/ledger/", {"unit": other})
    assert response.status_code == 404
    message = errors_of(response)[0]["message"]
    assert message == "您的辖区内没有此代码的网格、社区或街道"
    assert other not in message


def test_a_ledger_refusal_stays_english_when_english_is_chosen(users, api, settings):
    client = api(users.community)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/api/reports/ledger/")
    assert errors_of(response)[0]["message"] == "say which grid, community or street (its code)"


def test_an_unknown_export_layer_and_format_are_refused_in_chinese(users, api):
    client = api(users.district)
    layer = errors_of(client.get("/api/export/moon.geojson"))
    assert layer[0]["field"] == "layer"
    assert layer[0]["message"].startswith("layer 取值为以下之一：")
    assert "grids" in layer[0]["message"]  # it still lists what may be asked for
    fmt = errors_of(client.get("/api/export/grids.docx"))
    assert fmt[0]["field"] == "format"
    assert fmt[0]["message"].startswith("format 取值为以下之一：")
    assert "geojson" in fmt[0]["message"]


def test_the_incident_figures_refuse_a_grouping_and_a_reversed_period_in_chinese(users, api):
    client = api(users.district)
    by = errors_of(client.get("/api/incidents/metrics/", {"by": "planet"}))
    assert by[0]["field"] == "by"
    assert by[0]["message"].startswith("取值为以下之一：") and "grid" in by[0]["message"]
    period = errors_of(
        client.get("/api/incidents/metrics/", {"from": "2026-03-02", "to": "2026-03-01"})
    )
    assert period[0] == {"code": "invalid", "field": "from", "message": "时段的开始晚于结束"}


def test_a_resident_limit_out_of_range_is_refused_in_chinese(users, api):
    errors = errors_of(api(users.district).get("/api/residents/", {"limit": "5000"}))
    assert errors[0]["field"] == "limit"
    assert errors[0]["message"] == "limit 应为 1 到 1000 之间的整数"


def test_the_sensor_type_checks_speak_chinese(users):
    with translation.override("zh-hans"):
        with pytest.raises(ProblemsError) as refused:
            types.create_type(code="pole-x", user=users.admin, name="杆", role="rocket")
        (problem,) = refused.value.problems
        assert problem.code == "invalid_role" and problem.field == "role"
        assert problem.message.startswith("role 取值为以下之一：")
        with pytest.raises(ProblemsError) as refused:
            types.create_type(code="pole-x", user=users.admin, name="杆", flavour="salty")
        (problem,) = refused.value.problems
        assert (problem.code, problem.field, problem.message) == (
            "unknown_field",
            "flavour",
            "不是类型字段",
        )


def test_a_form_that_is_no_workbook_is_refused_in_chinese():
    with translation.override("zh-hans"), pytest.raises(ProblemsError) as refused:
        forms.parse_form(b"name,count\n", "老人.csv")
    (problem,) = refused.value.problems
    assert (problem.code, problem.field) == ("not_xlsx", "file")
    assert problem.message == "老人.csv 不是 Excel 工作簿（.xlsx）"
    with translation.override("zh-hans"), pytest.raises(ProblemsError) as refused:
        forms.parse_form(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "老人.xls")
    message = refused.value.problems[0].message
    assert message == "老人.xls 是旧版 Excel 97-2003 文件（.xls）：请另存为 .xlsx"


def test_a_period_that_is_no_period_is_refused_in_chinese(users, api, tree):
    unit = tree.grids[(1, 1, 1)].code
    response = api(users.community).get("/api/reports/ledger/", {"unit": unit, "period": "2026-13"})
    (error,) = errors_of(response)
    assert error["field"] == "period"
    assert error["message"].startswith("“2026-13”不是周期：请写作 2026-10（月）")


def test_a_point_gdal_cannot_read_is_refused_in_chinese(users, api, tree):
    # NaN coordinates made GDAL answer "Invalid geometry pointer returned from
    # OGR_G_CreateGeometryFromJson", which the serializer passed on as the message.
    body = {
        "title": "井盖缺失",
        "location": {"type": "Point", "coordinates": ["NaN", "NaN"]},
    }
    response = api(users.worker).post("/api/incidents/", body, format="json")
    errors = errors_of(response)
    (location,) = [e for e in errors if e.get("field") == "location"]
    assert location["message"] == "GeoJSON 点"
    assert_chinese(location["message"])


def test_a_photo_pillow_cannot_read_is_refused_in_chinese_without_its_reason():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.services.reporting import check_photos

    with translation.override("zh-hans"), pytest.raises(ProblemsError) as refused:
        check_photos([SimpleUploadedFile("a.jpg", b"not a picture", "image/jpeg")])
    (problem,) = refused.value.problems
    assert problem.code == "not_an_image"
    assert problem.message == "a.jpg：无法读取的图片（请用 JPEG、PNG 或 WebP）"
