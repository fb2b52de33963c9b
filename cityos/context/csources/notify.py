"""csourceNotifications (NGSI-LD v1.8, clauses 5.3.2 and 5.11.6): when a registration is created, changed or
deleted, each csourceSubscription of the tenant that it matches (or matched) is sent it, with the trigger
reason newlyMatching, updated or noLongerMatching; a new subscription is sent the registrations it matches.

Sending is HTTP POST through httpx on a small pool of threads, after the change is committed; the endpoint
was checked against the operator's allowed networks when the subscription was stored (as for entity
subscriptions), and each send counts in the subscription's timesSent / lastSuccess / lastFailure. There is
no retry and no outbox: a registration change is rare, and a missed one is seen by the next query.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from cityos.context.csources import subscriptions as csubs
from cityos.context.csources.model import StoredRegistration
from cityos.context.csources.render import rendered
from cityos.context.csources.storage import registration_of
from cityos.context.jsonld import CORE_CONTEXT_URL, link_header
from cityos.context.subscriptions.matching import term_map_for
from cityos.context.subscriptions.model import Subscription
from cityos.core.addresses import refusal
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
NEWLY, UPDATED, NO_LONGER = "newlyMatching", "updated", "noLongerMatching"
_SENDERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="csource-notify")
TIMEOUT = 5.0


def _subscription(rt: Runtime, stored: csubs.StoredCSourceSubscription) -> Subscription:
    tm = term_map_for(rt, stored.context)
    return csubs.parse(stored.body, tm, context=stored.context, future_only=False)


def matched_info(rt: Runtime, sub: Subscription, stored: StoredRegistration) -> list[Any] | None:
    """The registration's information members the subscription selects (None: it selects none)."""
    reg = registration_of(rt, stored)
    made_in = term_map_for(rt, stored.context).expand
    found = [d for d in csubs.discoveries(sub) if d.selects(reg, made_in)]
    if not found:
        return None
    return [raw for raw, info in zip(stored.body["information"], reg.information, strict=True)
            if any(d.selects_info(info) for d in found)]  # fmt: skip


def registration_changed(
    rt: Runtime, tenant: str, before: StoredRegistration | None, after: StoredRegistration | None
) -> None:
    """Notify the tenant's active csourceSubscriptions that ``before`` became ``after`` (None: not there)."""
    subs, _ = csubs.list_subscriptions(rt, tenant)
    for stored in subs:
        if stored.current_status() != "active":
            continue
        try:
            sub = _subscription(rt, stored)
            was = matched_info(rt, sub, before) if before is not None else None
            now = matched_info(rt, sub, after) if after is not None else None
        except Exception:  # a subscription or registration stored under older rules: skipped, not fatal
            log.exception("csourceSubscription %s could not be matched", stored.id)
            continue
        if now is not None and after is not None:
            send(rt, tenant, stored, sub, [(after, now)], UPDATED if was is not None else NEWLY)
        elif was is not None and before is not None:
            send(rt, tenant, stored, sub, [(before, before.body["information"])], NO_LONGER)


def initial(
    rt: Runtime, tenant: str, stored: csubs.StoredCSourceSubscription, registrations: list[StoredRegistration]
) -> None:
    """A new or changed subscription is sent the registrations it matches now (clauses 5.11.2, 5.11.3)."""
    if stored.current_status() != "active":
        return
    sub = _subscription(rt, stored)
    found = []
    for reg in registrations:
        try:
            info = matched_info(rt, sub, reg)
        except Exception:  # a registration stored under older rules: skipped, not fatal to the subscription
            log.exception("registration %s could not be matched", reg.id)
            continue
        if info is not None:
            found.append((reg, info))
    if found:
        send(rt, tenant, stored, sub, found, NEWLY)


def send(
    rt: Runtime,
    tenant: str,
    stored: csubs.StoredCSourceSubscription,
    sub: Subscription,
    data: list[tuple[StoredRegistration, list[Any]]],
    reason: str,
) -> None:
    """POST one csourceNotification holding ``data`` (each registration with the information it matched)."""
    asked = sub.tm
    regs = []
    for reg, info in data:
        same = reg.context == stored.context
        doc = rendered(reg, None if same else term_map_for(rt, reg.context), asked, sys_attrs=False)
        if not same:
            doc["information"] = rendered(
                StoredRegistration(**{**reg.__dict__, "body": {**reg.body, "information": info}}),
                term_map_for(rt, reg.context), asked, sys_attrs=False,
            )["information"]  # fmt: skip
        else:
            doc["information"] = info
        regs.append(doc)
    notification: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "ContextSourceNotification",
        "subscriptionId": stored.id,
        "notifiedAt": now_iso(),
        "data": regs,
        "triggerReason": reason,
    }
    context = sub.notify_context()
    headers = {"Content-Type": sub.accept, **dict(sub.receiver_info)}
    if sub.accept == "application/ld+json":
        notification["@context"] = context or CORE_CONTEXT_URL
    else:
        headers["Link"] = link_header(context if isinstance(context, str) else CORE_CONTEXT_URL)
    _SENDERS.submit(_post, rt, tenant, stored.id, sub.uri, orjson.dumps(notification), headers)


# held while a delivery is counted and while a subscription is read: a read right after the receiver answered
# waits for the count rather than showing the row before it
STATUS_LOCK = threading.Lock()


def _post(rt: Runtime, tenant: str, sub_id: str, uri: str, content: bytes, headers: dict[str, str]) -> None:
    at = now_iso()
    parts = urlsplit(uri)
    # checked again when sent, as entity notifications are: the name may resolve elsewhere than when stored
    why = refusal(
        parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), rt.settings.notify_networks
    )
    ok = False
    if why is not None:
        log.info("csourceNotification to %s not sent: %s", uri, why)
    else:
        try:
            ok = httpx.post(uri, content=content, headers=headers, timeout=TIMEOUT).is_success
        except httpx.HTTPError as exc:
            log.info("csourceNotification to %s failed: %s", uri, exc)
    with STATUS_LOCK:
        try:
            csubs.record_delivery(rt, tenant, sub_id, ok=ok, at=at)
        except Exception:  # the subscription was deleted meanwhile, or the store is closing
            log.debug("delivery status of csourceSubscription %s not written", sub_id, exc_info=True)
