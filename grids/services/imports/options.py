"""Whom the import's hints address: a message that says what to do names the option the
caller actually has. On the command line that is `--layer`, `--source-crs`, `--encoding`,
`--field code=COLUMN`; through the API it is a form field (`layer`, `crs`, `encoding`,
`code_field` ...), and an API that has no such field gets the sentence without the hint.

The readers are shared and deep (read_vector -> choose_layer -> ...), so the caller states
its parameters once for the run (`worded_for`) instead of passing them down every call."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ApiParameters:
    """The form fields of an import API: for the file's layer, its coordinate system, its
    encoding (None: the API has none) and, per field of ours, the field naming its column."""

    layer: str = "layer"
    crs: str = "crs"
    encoding: str | None = "encoding"
    columns: Mapping[str, str] = field(default_factory=dict)


# None: the command line (the default, and what the readers' messages always said).
_CURRENT: ContextVar[ApiParameters | None] = ContextVar("import_api_parameters", default=None)


def api_parameters() -> ApiParameters | None:
    """The API parameters of the import being run, or None for a command."""
    return _CURRENT.get()


@contextlib.contextmanager
def worded_for(parameters: ApiParameters | None) -> Iterator[None]:
    """Word the hints of the messages made inside for these API parameters (None: the
    command line)."""
    token = _CURRENT.set(parameters)
    try:
        yield
    finally:
        _CURRENT.reset(token)
