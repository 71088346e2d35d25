"""A tqdm progress bar for long services (imports, demo), on stderr."""

from __future__ import annotations

import sys

from django.utils.translation import gettext_lazy, pgettext_lazy
from tqdm import tqdm

# The import services name their stages in English (a key); the terminal shows the word in
# the command's language. Other stages (the demo's) are shown as named.
STAGES = {
    # "reading" alone is a sensor's reading (读数) in the catalogue.
    "reading": pgettext_lazy("import stage", "reading"),
    "checking": gettext_lazy("checking"),
    "writing": gettext_lazy("writing"),
    "checking the tree": gettext_lazy("checking the tree"),
}


class TqdmProgress:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: tqdm | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.close()
        name = str(STAGES.get(name, name))
        if self.enabled:
            self.bar = tqdm(total=total, desc=name, unit=" rows", file=sys.stderr, leave=False)
        else:
            print(f"... {name}" + (f" ({total:,})" if total else ""), file=sys.stderr)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
