"""Hardening (#15): uploaded files checked before they are decoded or read - photos by their
declared pixel size and format, layout files that GDAL or Arrow cannot read - answer 400
naming the file and the problem."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pytest
from django.core.management import CommandError, call_command
from PIL import Image
from shapely.geometry import box

from boundaries.models import ChangeSet
from incidents.models import IncidentPhoto

# ---- photos -------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def declared_png(width: int, height: int, name: str = "bomb.png") -> io.BytesIO:
    """A tiny PNG whose header declares `width` x `height` pixels."""
    data = io.BytesIO(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _chunk(b"IEND", b"")
    )
    data.name = name
    return data


def real_image(fmt="PNG", name="photo.png", size=(40, 30)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "red").save(data, fmt)
    data.seek(0)
    data.name = name
    return data


def _post_photos(api, user, incident, *files):
    return api(user).post(
        f"/api/incidents/{incident.pk}/photos/", {"photos": list(files)}, format="multipart"
    )


@pytest.mark.parametrize("size", [(100_000, 100_000), (9_000, 9_000)])
def test_a_photo_declaring_too_many_pixels_is_refused_naming_file_and_limit(
    users, incident, api, settings, tmp_path, size
):
    settings.MEDIA_ROOT = tmp_path
    answer = _post_photos(api, users.worker, incident, real_image(), declared_png(*size))
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert (error["code"], error["row"], error["field"]) == ("photo_too_many_pixels", 2, "photos")
    assert "bomb.png" in error["message"] and "50 百万像素" in error["message"]
    assert not IncidentPhoto.objects.exists()


def test_the_pixel_limit_is_a_setting(users, incident, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.GRIDLINE_PHOTO_MAX_MEGAPIXELS = 0.001
    answer = _post_photos(api, users.worker, incident, real_image(size=(40, 30)))
    assert answer.status_code == 400
    assert "40 × 30 像素" in answer.json()["errors"][0]["message"]
    settings.GRIDLINE_PHOTO_MAX_MEGAPIXELS = 50
    assert _post_photos(api, users.worker, incident, real_image()).status_code == 201


def _truncated() -> io.BytesIO:
    whole = real_image(size=(200, 200)).getvalue()
    data = io.BytesIO(whole[: len(whole) // 2])
    data.name = "cut.png"
    return data


def _gif() -> io.BytesIO:
    return real_image("GIF", "anim.gif")


def _text() -> io.BytesIO:
    data = io.BytesIO(b"<svg onload=alert(1)>")
    data.name = "photo.png"
    return data


@pytest.mark.parametrize("make", [_truncated, _gif, _text, lambda: declared_png(0, 0, "z.png")])
def test_broken_or_foreign_images_are_a_400_naming_the_file(
    users, incident, api, settings, tmp_path, make
):
    settings.MEDIA_ROOT = tmp_path
    upload = make()
    answer = _post_photos(api, users.worker, incident, upload)
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["code"] == "not_an_image"
    assert upload.name in error["message"]
    assert not IncidentPhoto.objects.exists()


# ---- unreadable layout files --------------------------------------------------------------

C11 = "500118001001"


def _layout_frame():
    return gpd.GeoDataFrame(
        {"code": [f"{C11}001", f"{C11}002"], "name": ["西网格", "东网格"]},
        geometry=[box(105.90, 29.30, 105.925, 29.35), box(105.925, 29.30, 105.95, 29.35)],
        crs="EPSG:4326",
    )


def gbk_geojson(tmp_path) -> Path:
    text = _layout_frame().to_json(ensure_ascii=False)
    path = tmp_path / "网格.geojson"
    path.write_bytes(text.encode("gbk"))
    return path


def zipped(tmp_path, name: str, members: dict[str, bytes]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def shapefile_parts(tmp_path, encoding="utf-8") -> dict[str, bytes]:
    folder = tmp_path / f"shp-{encoding}"
    folder.mkdir()
    _layout_frame().to_file(folder / "layout.shp", encoding=encoding)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def bogus_dbf_no_shx(tmp_path) -> Path:
    """A .shp with a .dbf that is no dBASE file and no .shx: pyogrio indexed the layers of a
    source that has none (IndexError) before #15."""
    parts = shapefile_parts(tmp_path)
    return zipped(
        tmp_path, "bogus.zip", {"layout.shp": parts["layout.shp"], "layout.dbf": b"garbage" * 20}
    )


def dbf_text_not_in_its_cpg(tmp_path) -> Path:
    """A .cpg saying UTF-8 over a .dbf written in GBK: Arrow refuses the text."""
    parts = shapefile_parts(tmp_path, "gbk")
    parts["layout.cpg"] = b"UTF-8"
    return zipped(tmp_path, "wrong-cpg.zip", parts)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (gbk_geojson, "UTF-8"),
        (bogus_dbf_no_shx, "bogus.zip"),
        (dbf_text_not_in_its_cpg, "wrong-cpg.zip"),
    ],
)
def test_an_unreadable_layout_is_a_400_naming_the_file(tree, users, api, tmp_path, make, words):
    path = make(tmp_path)
    with path.open("rb") as handle:
        answer = api(users.community).post(
            "/api/boundaries/changesets/import/",
            {"region": tree.communities[(1, 1)].code, "title": "重划", "file": handle},
            format="multipart",
        )
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert error["code"] in ("unreadable", "not_utf8")
    assert path.name in error["message"] and words in error["message"]
    assert not ChangeSet.objects.exists()


@pytest.mark.parametrize("make", [gbk_geojson, bogus_dbf_no_shx, dbf_text_not_in_its_cpg])
def test_the_layout_command_names_the_unreadable_file(tree, users, tmp_path, make):
    path = make(tmp_path)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_grid_layout",
            str(path),
            region=tree.communities[(1, 1)].code,
            user=users.community.username,
            stderr=err,
        )
    assert path.name in err.getvalue()
    assert not ChangeSet.objects.exists()
