"""The notification outbox's ids and rows: stable across versions of the code that makes them."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cityos.context.subscriptions import outbox
from cityos.context.tables import notification_outbox


@given(st.text(), st.text(), st.text())
def test_notification_ids_are_the_uuid5_names_they_always_were(event_id: str, tenant: str, sub_id: str) -> None:
    # an outbox row stored before must meet the same id when its event is matched again after an upgrade
    name = f"{event_id} {tenant} {sub_id}"
    expected = f"urn:ngsi-ld:Notification:{uuid.uuid5(outbox._NAMESPACE, name)}"
    assert outbox.notification_id(event_id, tenant, sub_id) == expected


def test_a_pending_notification_is_an_outbox_row_in_column_order() -> None:
    assert list(outbox.Pending._fields) == [c.name for c in notification_outbox.columns]
