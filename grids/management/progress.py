"""A tqdm progress bar for long services (imports, demo), on stderr."""

from __future__ import annotations

import sys

from tqdm import tqdm


class TqdmProgress:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: tqdm | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.close()
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
