"""Issue 15, section 8, "no English on a Chinese page", for what the imports and the boundary
editor share: coordinate systems (grids.services.crs), geometry checks
(grids.services.geometry), the tree's rules (grids.services.boundaries), the hints of the
import APIs (which name the API's form fields, not the command's options) and Django's own
error pages (400, 403, 404)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.management import load_command_class
from django.test import Client
from django.utils import translation
from shapely.geometry import Point as SPoint
from shapely.geometry import box

from boundaries.models import ChangeSet
from grids.models import today
from grids.problems import ProblemsError
from grids.services import boundaries, crs
from grids.services.geometry import check_polygons
from sensors.models import Sensor
from tests.test_import_words import assert_chinese, post_layout, two_layer_geopackage

C11 = "500118001001"
BOWTIE = shapely.Polygon(
    [(105.90, 29.30), (105.91, 29.31), (105.91, 29.30), (105.90, 29.31), (105.90, 29.30)]
)


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


# --- coordinate systems --------------------------------------------------------------------


def test_an_unknown_coordinate_system_is_refused_in_chinese(chinese):
    with pytest.raises(crs.UnknownCRS) as refused:
        crs.normalise("mars")
    message = str(refused.value)
    assert "未知的坐标系“mars”" in message and "火星坐标" in message, message
    assert_chinese(message)


def test_an_unknown_coordinate_system_is_refused_in_english_when_asked():
    with translation.override("en"), pytest.raises(crs.UnknownCRS) as refused:
        crs.normalise("mars")
    assert str(refused.value).startswith("unknown coordinate system 'mars'; use an EPSG code")


def test_the_source_crs_help_lists_the_spellings_in_chinese(chinese):
    parser = load_command_class("grids", "import_households").create_parser(
        "manage.py", "import_households"
    )
    (action,) = [a for a in parser._actions if "--source-crs" in a.option_strings]
    assert "EPSG 代码（如 EPSG:4545）" in action.help and "火星坐标" in action.help, action.help
    assert "an EPSG code" not in action.help
    assert_chinese(action.help)


# --- geometry checks -----------------------------------------------------------------------


def test_geometry_problems_are_chinese(chinese):
    geoms = np.array([BOWTIE, None, SPoint(105.9, 29.3)], dtype=object)
    _fixed, problems = check_polygons(geoms, labels=["a", "b", "c"])
    by_code = {problem.code: problem for _i, problem in problems}
    assert by_code["invalid_geometry"].message == "几何图形无效：自相交"
    assert by_code["invalid_geometry"].location == pytest.approx((105.905, 29.305))
    assert by_code["empty_geometry"].message == "该要素没有几何图形"
    assert by_code["not_polygon"].message == "应为多边形，实际为 Point"
    for _i, problem in problems:
        assert_chinese(problem.message)


def test_geometry_problems_stay_english_for_an_english_reader():
    with translation.override("en"):
        _fixed, problems = check_polygons(np.array([BOWTIE], dtype=object))
    assert problems[0][1].message == "invalid geometry: Self-intersection"


# --- the tree's rules ----------------------------------------------------------------------


def test_code_and_date_problems_are_chinese(chinese):
    assert boundaries.code_problem("123", None, None).message == "编码必须是 15 位数字"
    assert (
        boundaries.code_problem(f"{C11}001", None, "500118002001").message
        == f"编码 {C11}001 没有以上级的编码 500118002001 开头"
    )
    future = boundaries.future_date_problem(today() + dt.timedelta(days=1))
    assert future.message == "边界的生效日期不能晚于今天"


def test_creating_a_node_is_refused_in_chinese(tree, chinese):
    community = tree.communities[(1, 1)]
    with pytest.raises(ProblemsError) as refused:
        boundaries.create_grid(
            code=tree.grids[(1, 1, 1)].code,
            name="重复",
            community=tree.streets[1],
            geom=BOWTIE,
            valid_from=today() + dt.timedelta(days=2),
        )
    messages = [p.message for p in refused.value.problems]
    assert "边界的生效日期不能晚于今天" in messages
    assert "网格的上级必须是社区" in messages
    assert f"编码 {tree.grids[(1, 1, 1)].code} 已存在" in messages
    for message in messages:
        assert_chinese(message)
    with pytest.raises(ProblemsError) as refused:
        boundaries.create_grid(
            code=f"{community.code}900", name="坏", community=community, geom=BOWTIE
        )
    (problem,) = refused.value.problems
    assert problem.message == "几何图形无效：自相交", problem


def test_a_boundary_editor_change_is_refused_in_chinese(tree, chinese):
    grid = tree.grids[(1, 1, 1)]
    with pytest.raises(ProblemsError) as refused:
        boundaries.change_boundary(grid, box(105.0, 29.0, 105.001, 29.001), expected_version=99)
    (problem,) = refused.value.problems
    assert problem.code == "stale_version"
    assert problem.message.startswith(f"网格 {grid.code} 已被他人修改"), problem
    assert_chinese(problem.message)


def test_the_tree_rules_are_chinese(tree, chinese):
    """A grid redrawn over its sibling and out of its community: both rules speak Chinese."""
    grid, sibling = tree.grids[(1, 1, 1)], tree.grids[(1, 1, 2)]
    with pytest.raises(ProblemsError) as refused:
        boundaries.change_boundary(grid, box(105.89, 29.30, 105.94, 29.35))
    messages = {p.code: p.message for p in refused.value.problems}
    assert messages["overlap"].startswith(f"{grid.code} 与同级的 {sibling.code} 重叠"), messages
    assert messages["outside_parent"].startswith(f"{grid.code} 超出其上级"), messages
    for message in messages.values():
        assert_chinese(message)


# --- the import APIs name their own fields -------------------------------------------------


def layout_without_codes(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["西网格"]}, geometry=[box(105.90, 29.30, 105.925, 29.35)], crs="EPSG:4326"
    )
    path = tmp_path / "layout.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def projected_layout(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"code": [f"{C11}001"]}, geometry=[box(500000, 3300000, 500500, 3300500)], crs=4326
    )
    path = tmp_path / "layout.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize(
    ("make", "chinese_hint", "english_hint"),
    [
        (layout_without_codes, "请在字段 code_field 中填写列名", "name it in the field code_field"),
        (
            lambda p: two_layer_geopackage(p)[0],
            "请在字段 layer 中选择",
            "choose one with the field layer",
        ),
        (projected_layout, "请在字段 crs 中指定", "give it in the field crs"),
    ],
)
def test_the_layout_import_api_names_its_form_fields_not_the_command_options(
    tree, users, api, tmp_path, make, chinese_hint, english_hint
):
    path = make(tmp_path)
    region = tree.communities[(1, 1)]
    for language, hint in (("zh-hans", chinese_hint), ("en", english_hint)):
        answer = post_layout(api, users.community, region, path, language=language)
        assert answer.status_code == 400, answer.content
        messages = [e["message"] for e in answer.json()["errors"]]
        assert any(hint in m for m in messages), messages
        assert not any("--" in m for m in messages), messages
        if language == "zh-hans":
            for message in messages:
                assert_chinese(message)
    assert not ChangeSet.objects.exists()


def test_the_layout_import_refuses_a_future_start_in_chinese(tree, users, api, tmp_path):
    path = layout_without_codes(tmp_path)
    with path.open("rb") as handle:
        answer = api(users.community).post(
            "/api/boundaries/changesets/import/",
            {
                "region": tree.communities[(1, 1)].code,
                "title": "重划",
                "file": handle,
                "valid_from": (today() + dt.timedelta(days=3)).isoformat(),
            },
            format="multipart",
        )
    assert answer.status_code == 400, answer.content
    messages = [e["message"] for e in answer.json()["errors"]]
    assert "边界的生效日期不能晚于今天" in messages, messages


def test_the_command_keeps_naming_its_options(tmp_path):
    """The same reader on the command line (no API parameters) still says --layer."""
    from grids.services.imports import read_vector

    path, _code = two_layer_geopackage(tmp_path)
    with translation.override("zh-hans"), pytest.raises(Exception) as refused:
        read_vector(path)
    assert "请用 --layer 选择其中一个" in str(refused.value)


def test_the_sensor_import_api_names_its_form_fields(tree, users, api, tmp_path):
    path = tmp_path / "sensors.gpkg"
    for layer in ("摄像头", "水池"):
        gpd.GeoDataFrame(
            {"code": ["CAM-1"], "type": ["camera"]}, geometry=[SPoint(105.9, 29.3)], crs=4326
        ).to_file(path, layer=layer, driver="GPKG")
    table = tmp_path / "sensors.csv"
    table.write_text("code,type,x坐标\nCAM-1,camera,105.9\n", encoding="utf-8")
    client = api(users.district)
    answers = {}
    for name in (path, table):
        with name.open("rb") as handle:
            answers[name.suffix] = client.post(
                "/api/sensors/imports/", {"file": handle}, format="multipart"
            )
    layers = answers[".gpkg"]
    assert layers.status_code == 400, layers.content
    (error,) = [e for e in layers.json()["errors"] if e["code"] == "unreadable"]
    assert "请在字段 layer 中选择其中一个" in error["message"], error
    columns = answers[".csv"]
    assert columns.status_code == 400, columns.content
    messages = [e["message"] for e in columns.json()["errors"]]
    # The sensor API has no field naming the lon/lat columns: no hint, and no --field.
    assert "没有对应 lon 的列（文件的列为 code, type, x坐标）" in messages, messages
    assert not any("--" in m for m in messages), messages
    for message in messages:
        assert_chinese(message)
    assert not Sensor.objects.exists()


# --- Django's own error pages --------------------------------------------------------------


def test_a_bad_request_page_is_a_short_chinese_page(db):
    # A Host header Django refuses is a SuspiciousOperation: handler400 answers it.
    answer = Client().get("/", HTTP_HOST="bad_host..example")
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "无法处理该请求" in page and "Bad Request" not in page, page


def test_a_missing_page_is_a_chinese_page(db):
    answer = Client().get("/no-such-page/")
    assert answer.status_code == 404
    page = answer.content.decode()
    assert "页面不存在" in page and "Not Found" not in page, page
