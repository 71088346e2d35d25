"""Background jobs of the wall screen, run by the procrastinate worker."""

from __future__ import annotations

from procrastinate.contrib.django import app


# A jurisdiction's figures recounted off the request: a district's take about 2 s at full
# scale, and screens are served the previous answer meanwhile (screen.services.figures).
@app.task(queue="screen")
def refresh_figures(scope: dict, language: str) -> None:
    from screen.services import figures

    figures.refresh(scope, language)
