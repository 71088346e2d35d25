"""Issue 15, section 8, "no English on a Chinese page", for the imports: the problems of a
layout import reach the boundary editor through the API in the caller's language (Chinese
by default), and the import commands speak the platform's language (LANGUAGE_CODE, Chinese)
unless --language asks for another."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.utils import translation
from shapely.geometry import box

from boundaries.models import ChangeSet
from grids.models import Household
from tests.test_imports import household_rows, run, write_households

C11 = "500118001001"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three English words in a row: a sentence (or a fragment of one) left untranslated. Codes,
# file names, column names and options (--source-crs) are single tokens and allowed.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}\b")


def assert_chinese(text: str) -> None:
    assert CJK.search(text), text
    assert not ENGLISH.search(text), (ENGLISH.search(text).group(0), text)


def projected_layout(tmp_path):
    """Grid outlines in metres (a projected system) in a file that says WGS84."""
    gdf = gpd.GeoDataFrame(
        {"code": [f"{C11}001", f"{C11}002"], "name": ["西网格", "东网格"]},
        geometry=[box(500000, 3300000, 500500, 3300500), box(500500, 3300000, 501000, 3300500)],
        crs="EPSG:4326",
    )
    path = tmp_path / "layout.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path, "wrong_crs"


def layout_without_codes(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["西网格"]}, geometry=[box(105.90, 29.30, 105.925, 29.35)], crs="EPSG:4326"
    )
    path = tmp_path / "layout.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path, "missing_field"


def two_layer_geopackage(tmp_path):
    path = tmp_path / "layout.gpkg"
    for layer in ("网格", "社区"):
        gpd.GeoDataFrame(
            {"code": [f"{C11}001"]}, geometry=[box(105.90, 29.30, 105.925, 29.35)], crs=4326
        ).to_file(path, layer=layer, driver="GPKG")
    return path, "unreadable"


def post_layout(api, user, region, path, language: str | None = None):
    client = api(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with path.open("rb") as handle:
        return client.post(
            "/api/boundaries/changesets/import/",
            {"region": region.code, "title": "重划", "file": handle},
            format="multipart",
        )


@pytest.mark.parametrize("make", [projected_layout, layout_without_codes, two_layer_geopackage])
def test_layout_import_api_answers_a_chinese_user_in_chinese(tree, users, api, tmp_path, make):
    path, code = make(tmp_path)
    answer = post_layout(api, users.community, tree.communities[(1, 1)], path)
    assert answer.status_code == 400, answer.content
    errors = answer.json()["errors"]
    assert errors and {e["code"] for e in errors} == {code}, errors
    for error in errors:
        assert_chinese(error["message"])
    assert not ChangeSet.objects.exists()


def test_layout_import_api_answers_in_english_when_english_is_chosen(tree, users, api, tmp_path):
    path, _code = projected_layout(tmp_path)
    answer = post_layout(api, users.community, tree.communities[(1, 1)], path, language="en")
    assert answer.status_code == 400, answer.content
    (first, *_rest) = answer.json()["errors"]
    assert "is not longitude/latitude" in first["message"], first
    assert not CJK.search(first["message"].split(":")[0])


def test_import_households_speaks_chinese_by_default(tree, tmp_path):
    # What `manage.py` gives a command: no language activated, so LANGUAGE_CODE.
    translation.deactivate()
    table = household_rows(tree).rename(columns={"address": "门牌"})
    path = write_households(table, tmp_path / "住户.csv")

    with pytest.raises(CommandError) as refused:
        run("import_households", path, "--commit")
    assert "未写入任何数据" in str(refused.value)
    assert_chinese(str(refused.value))

    out, err = run("import_households", path, "--field", "address=门牌")
    assert "住户：读取 3 条" in out and "将写入 3 条" in out, out
    for line in (out + err).splitlines():
        assert_chinese(line)
    assert not Household.objects.exists()

    out, _err = run("import_households", path, "--field", "address=门牌", "--commit")
    assert "已写入 3 条" in out, out
    assert Household.objects.count() == 3


def test_import_households_speaks_english_on_request_and_only_for_the_run(tree, tmp_path):
    translation.deactivate()
    table = household_rows(tree)
    path = write_households(table, tmp_path / "households.csv")
    out, _err = run("import_households", path, "--language", "en")
    assert "households: 3 read, 0 errors" in out and "3 would be written" in out, out
    assert translation.get_language() == settings.LANGUAGE_CODE
    out, _err = run("import_households", path)
    assert "住户：读取 3 条" in out, out
