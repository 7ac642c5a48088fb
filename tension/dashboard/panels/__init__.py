"""The page's panels: each module has its plain functions (tested without a browser) and a
`register(app, service, …)` that wires them to the components the page layout gives it."""

from __future__ import annotations

from dash import Dash

from tension.dashboard.panels import (
    annotations,
    chart,
    controls,
    dyads,
    evidence,
    files,
    learning,
    watch,
)
from tension.dashboard.service import Service
from tension.dashboard.training import Training
from tension.dashboard.uploads import Uploads


def register(app: Dash, service: Service, uploads: Uploads, training: Training) -> None:
    """Every panel's callbacks."""
    controls.register(app, service)
    chart.register(app, service)
    evidence.register(app, service)
    dyads.register(app, service)
    annotations.register(app, service, uploads)
    files.register(app, service, uploads)
    learning.register(app, service, training)
    watch.register(app, service)
