"""The components of cityos, in the order a process starts them: the one list from which the app, the
worker, the migrations' metadata and the route checks are built (see :mod:`cityos.component`)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from cityos import auth, cases, context, datahub, iot, onestop, opendata, plans, twin, vitals, web
from cityos.component import Component
from cityos.store import metadata

COMPONENTS: tuple[Component, ...] = (
    auth.component,
    context.component,
    datahub.component,
    iot.component,
    vitals.component,
    cases.component,
    twin.component,
    opendata.component,
    onestop.component,
    plans.component,
    web.component,
)


def load_tables() -> MetaData:
    """The metadata with every component's tables declared in it."""
    for c in COMPONENTS:
        if c.tables:
            importlib.import_module(c.tables)
    return metadata
