"""The API's parsers: DRF's own, with the request limits of grids.limits applied to what they
read (JSON nesting before parsing; NUL and unpaired surrogates in any string or form field,
named). The default parsers of REST_FRAMEWORK, and the only ones a view may name."""

from __future__ import annotations

import io

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from grids import limits


def _raise(refused: limits.InputRefused):
    if refused.field:
        raise ValidationError({refused.field: [refused.message]}, code=refused.code)
    raise ParseError(refused.message, code=refused.code)


class JSONParser(parsers.JSONParser):
    check_text = True

    def parse(self, stream, media_type=None, parser_context=None):
        text = stream.read() if stream is not None else b""
        try:
            limits.check_json_depth(text)
        except limits.InputRefused as refused:
            _raise(refused)
        data = super().parse(io.BytesIO(text), media_type, parser_context)
        if self.check_text and limits.may_hold_bad_text(text):
            try:
                limits.refuse_bad_text(data)
            except limits.InputRefused as refused:
                _raise(refused)
        return data


class RowsJSONParser(JSONParser):
    """For a batch whose rows are accepted or refused one by one (sensor ingest): nesting is
    limited, and the view refuses a row with a NUL or an unpaired surrogate itself
    (grids.limits.bad_text_in), keeping the good rows."""

    check_text = False


def _check_form(data, files=None) -> None:
    try:
        limits.refuse_bad_form(data, files)
    except limits.InputRefused as refused:
        _raise(refused)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data, result.files)
        return result
