"""Periodic notifications (``timeInterval``): every matching entity, every so many seconds.

:func:`due_items` reads the entities a periodic subscription selects (per member of ``entities``,
then ``q`` and ``geoQ`` on each) and renders them as outbox items, which the subscription's channel
sends as one notification. Each round has its own notification ids, so a round repeated after a
restart repeats its ids.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from cityos.context.errors import NgsiLdError
from cityos.context.governance import govern_rows
from cityos.context.query import EntityQuery, query_entities
from cityos.context.render import View, render_entity
from cityos.context.subscriptions import outbox
from cityos.context.subscriptions.matching import readable, selects_entity
from cityos.context.subscriptions.model import Subscription
from cityos.context.subscriptions.outbox import Pending
from cityos.runtime import Runtime

log = logging.getLogger(__name__)

MOST = 10_000  # entities in one periodic notification at most
_PAGE = 1000


def due_items(rt: Runtime, tenant: str, sub: Subscription, round_ms: int) -> list[Pending]:
    """The entities a periodic subscription is sent in the round that fell due at ``round_ms``."""
    pick = sub.pick if sub.attributes is None else frozenset({"id", "type", *sub.attributes})
    view = View(sub.fmt, pick=pick, omit=sub.omit)
    items: dict[str, Pending] = {}
    for member in sub.body.get("entities") or []:
        query = EntityQuery(
            ids=[member["id"]] if member.get("id") else None,
            id_pattern=member.get("idPattern"),
            type=member.get("type"),
            limit=_PAGE,
        )
        while len(items) < MOST:
            try:
                rows = query_entities(rt, tenant, query, sub.tm).rows
            except NgsiLdError as exc:  # e.g. the tenant has no entities yet
                log.debug("periodic subscription %s: %s", sub.id, exc.detail)
                break
            selected = [r for r in rows if r.id not in items and selects_entity(sub, r.id, r.types, r.attrs)]
            # a department's subscription is sent what the department may read (the read audited), of the
            # entities whose filtered attributes it may see
            for row in govern_rows(rt, tenant, sub.reader, readable(rt, tenant, sub, selected)):
                entity: dict[str, Any] = render_entity(row.id, row.types, row.scope, row.attrs, sub.tm, view)
                items[row.id] = Pending(
                    tenant=tenant,
                    subscription_id=sub.id,
                    notification_id=outbox.notification_id(f"periodic {round_ms} {row.id}", tenant, sub.id),
                    seq=outbox.next_seq(),
                    entity_id=row.id,
                    entity=orjson.dumps(entity).decode(),
                    event_time=round_ms / 1000,
                )
            if len(rows) < _PAGE:
                break
            query.offset += _PAGE
    return list(items.values())[:MOST]
