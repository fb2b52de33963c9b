"""The events the data hub publishes on the bus after each commit (attribute names are expanded IRIs):

* ``entity.created``: ``id``, ``types``, ``attrs`` (all of them), ``createdAt``, ``modifiedAt``;
* ``entity.updated``: ``id``, ``types``, ``attrs`` (those that changed), ``removed`` (attribute IRIs),
  ``previous`` (the instances, before the change, of the attributes changed or removed that existed),
  ``createdAt``, ``modifiedAt``; telemetry's (:func:`cityos.context.observe`) also ``observed`` (attribute
  IRI to every observation of its batch, in time order) when ``attrs`` leaves some out, and with ``attrs``
  empty when a batch only filled the history (late observations);
* ``entity.deleted``: ``id``, ``types``, ``attrs`` (all it held), ``createdAt``, ``modifiedAt``, ``deletedAt``.

Events are read-only: a consumer that needs to change what an event carries copies it first.
"""

from __future__ import annotations

ENTITY_CREATED, ENTITY_UPDATED, ENTITY_DELETED = "entity.created", "entity.updated", "entity.deleted"
ENTITY_EVENTS = "entity.*"  # the bus pattern of all three
