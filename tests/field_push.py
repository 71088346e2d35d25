"""Helpers of the outbox tests (issue #18): push one item as the phone does."""

from __future__ import annotations

import io
import json
import os
import uuid

from django.utils import timezone
from PIL import Image

URL = "/api/field/outbox/"


def photo(name: str = "photo.jpg", size=(64, 48), *, noise: bool = False) -> io.BytesIO:
    """A JPEG; with noise, one that does not compress (its size grows with its pixels)."""
    data = io.BytesIO()
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, "teal")
    image.save(data, "JPEG")
    data.seek(0)
    data.name = name
    return data


def item(kind: str, data: dict | None = None, **fields) -> dict:
    return {
        "client_key": str(fields.pop("key", None) or uuid.uuid4()),
        "kind": kind,
        "target": fields.pop("target", None),
        "base_version": fields.pop("base_version", None),
        "client_time": fields.pop("client_time", timezone.now().isoformat()),
        "data": data or {},
        **fields,
    }


def push(client, kind: str, data: dict | None = None, *, photos=(), **fields):
    """POST one item (multipart when there are photos); the response."""
    body = item(kind, data, **fields)
    if photos:
        return client.post(
            URL, {"item": json.dumps(body), "photos": list(photos)}, format="multipart"
        )
    return client.post(URL, body, format="json")


def send(client, body: dict, photos=()):
    """POST an item made by item() again (a resend)."""
    if photos:
        return client.post(
            URL, {"item": json.dumps(body), "photos": list(photos)}, format="multipart"
        )
    return client.post(URL, body, format="json")


def lonlat(point) -> dict:
    return {"lon": point.x, "lat": point.y}
