"""Hardening (#15): links in sensor properties are http, https or rtsp (or a scheme the type
declares, never a script), wherever properties are written, and never handed to the fire
panel otherwise."""

from __future__ import annotations

import json

import pytest

from sensors.admin import SensorForm
from sensors.models import Sensor, SensorType
from sensors.services.imports import ImportAborted, import_sensors
from sensors.services.registry import SensorSpec, create_sensor
from tests.conftest import centre_of

# ---- links in sensor properties -----------------------------------------------------------

CAMERA = {"bearing": 90, "fov": 60, "range": 200}
BAD_LINKS = [
    "javascript:alert(9)",
    " javascript:alert(9)",
    "JavaScript:alert(9)",
    "java\tscript:alert(9)",
    "data:text/html,<script>alert(9)</script>",
    "vbscript:msgbox(9)",
    "//evil.example/x",
    "http:///no-host",
    "rtsp://cam.example/live 1",
]


@pytest.mark.parametrize("stream", BAD_LINKS)
def test_a_camera_stream_that_is_not_a_link_is_refused(tree, users, api, stream):
    point = centre_of(tree.grids[(1, 1, 1)])
    answer = api(users.district).post(
        "/api/sensors/sensors/",
        {
            "code": "CAM-X",
            "type": "camera",
            "lon": point.x,
            "lat": point.y,
            "properties": {**CAMERA, "stream": stream},
        },
        format="json",
    )
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("properties.stream", "schema_format")
    assert not Sensor.objects.exists()


@pytest.mark.parametrize(
    "stream",
    [
        "rtsp://video.yongchuan.demo/CAM-0001",  # the demo's own (sensors.services.demo)
        "http://10.20.0.5/live/1.m3u8",
        "https://cam.example/live",
    ],
)
def test_http_https_and_rtsp_streams_are_links(tree, users, stream):
    camera = create_sensor(
        SensorSpec(
            code="CAM-OK",
            type="camera",
            location=centre_of(tree.grids[(1, 1, 1)]),
            properties={**CAMERA, "stream": stream},
        )
    )
    assert camera.properties["stream"] == stream


def test_a_changed_stream_is_checked_too(tree, users, api):
    camera = create_sensor(
        SensorSpec(
            code="CAM-1",
            type="camera",
            location=centre_of(tree.grids[(1, 1, 1)]),
            properties=CAMERA,
        )
    )
    answer = api(users.district).patch(
        f"/api/sensors/sensors/{camera.pk}/",
        {"properties": {**CAMERA, "stream": "javascript:alert(9)"}},
        format="json",
    )
    assert answer.status_code == 400
    camera.refresh_from_db()
    assert "stream" not in camera.properties


def test_an_imported_stream_is_checked_naming_the_row(tmp_path, tree, users):
    a = centre_of(tree.grids[(1, 1, 1)])
    path = tmp_path / "cams.csv"
    path.write_text(
        "code,type,lon,lat,prop_bearing,prop_fov,prop_range,prop_stream\n"
        f"C1,camera,{a.x},{a.y},10,60,100,rtsp://cam.example/1\n"
        f"C2,camera,{a.x},{a.y},10,60,100,javascript:alert(9)\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportAborted) as aborted:
        import_sensors(path, user=users.district)
    found = {(p.row, p.field, p.code) for p in aborted.value.report.errors}
    assert found == {(3, "properties.stream", "schema_format")}  # the file's line 3
    assert not Sensor.objects.exists()


LINKED = {
    "code": "cctv_plus",
    "name": "球机",
    "role": "camera",
    "properties_schema": {
        "type": "object",
        "properties": {
            "bearing": {"type": "number"},
            "fov": {"type": "number"},
            "range": {"type": "number"},
            "stream": {"type": "string", "format": "uri", "x-schemes": ["rtmp"]},
        },
        "required": ["bearing", "fov", "range"],
    },
}


def test_a_type_may_declare_more_schemes_but_never_a_script(tree, users, api):
    client = api(users.district)
    for scheme in ("javascript", "DATA", "not a scheme"):
        schema = json.loads(json.dumps(LINKED["properties_schema"]))
        schema["properties"]["stream"]["x-schemes"] = [scheme]
        refused = client.post(
            "/api/sensors/types/",
            {**LINKED, "properties_schema": schema},
            format="json",
        )
        assert refused.status_code == 400, (scheme, refused.content)
        assert refused.json()["errors"][0]["field"] == "properties_schema"
    assert client.post("/api/sensors/types/", LINKED, format="json").status_code == 201
    point = centre_of(tree.grids[(1, 1, 1)])
    body = {"type": "cctv_plus", "lon": point.x, "lat": point.y}
    rtmp = {**CAMERA, "stream": "rtmp://live.example/app/1"}
    made = client.post("/api/sensors/sensors/", {**body, "code": "P1", "properties": rtmp}, "json")
    assert made.status_code == 201, made.content
    script = {**CAMERA, "stream": "javascript:alert(9)"}
    refused = client.post(
        "/api/sensors/sensors/", {**body, "code": "P2", "properties": script}, "json"
    )
    assert refused.status_code == 400


def test_the_fire_panel_is_never_handed_a_script_link(tree, users, api):
    """A stream stored before links were checked (written behind the registry's back here)."""
    point = centre_of(tree.grids[(1, 1, 1)])
    camera = create_sensor(
        SensorSpec(
            code="CAM-OLD",
            type="camera",
            location=point,
            properties={"bearing": 0, "fov": 360, "range": 500},
            status="online",
        )
    )
    Sensor.objects.filter(pk=camera.pk).update(
        properties={"bearing": 0, "fov": 360, "range": 500, "stream": "javascript:alert(9)"}
    )
    answer = api(users.district).get(
        "/api/sensors/fire-response/", {"lon": point.x, "lat": point.y}
    )
    assert answer.status_code == 200, answer.content
    (seen,) = answer.json()["cameras"]
    assert seen["code"] == "CAM-OLD" and seen["stream"] is None


def test_the_admin_form_refuses_a_script_stream(tree, users):
    point = centre_of(tree.grids[(1, 1, 1)])

    def form_for(stream):
        form = SensorForm(
            data={
                "code": "CAM-A",
                "type": SensorType.objects.get(code="camera").pk,
                "location": point.ewkt,
                "properties": json.dumps({**CAMERA, "stream": stream}),
                "status": "offline",
            }
        )
        form.user = users.district
        return form

    refused = form_for("javascript:alert(9)")
    assert not refused.is_valid()
    assert "stream" in str(refused.errors)
    assert form_for("rtsp://cam.example/live").is_valid()
    assert not Sensor.objects.exists()  # the form's check is a dry run
