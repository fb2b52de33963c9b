"""NGSI-LD subscriptions (ETSI GS CIM 009 v1.8, clauses 5.2.12 and 5.8): validation, matching, storage.

A subscription is stored as the client gave it (names as written, ``@context`` removed, ``id`` and
``type`` filled in) together with the @context of the request that created it; see
``cityos.context.tables.subscriptions``. :func:`~cityos.context.subscriptions.parsing.parse_subscription`
validates a body and expands its names with that context into a
:class:`~cityos.context.subscriptions.model.Subscription`, which
:func:`~cityos.context.subscriptions.matching.matches` tests against bus events.

``q`` runs in Python on the stored attribute form (:mod:`cityos.context.qeval`).

Notification endpoints are ``http(s)://`` URLs or MQTT brokers, ``mqtt(s)://[user:pass@]host[:port]/topic``
(clause 5.8 and the MQTT notification binding; ``endpoint.notifierInfo`` may set ``MQTT-QoS`` and
``MQTT-Version``), parsed into an :class:`MqttEndpoint`.

A ``timeInterval`` subscription is periodic: every that many seconds it is sent every entity that
its ``entities``, ``q`` and ``geoQ`` select (at most 10,000), and changes do not notify it.

``entities[].type`` may be a type expression (``(Building|Tower)``, ``A;B``). Not in this part: ``scopeQ``
and ``lang``.


The modules: ``model`` (what a subscription is), ``parsing`` (a body validated into one), ``matching``
(events against subscriptions), ``storage`` (the table), and the notifier that runs them: ``notify``
(events in, notifications stored in the ``outbox``), ``delivery`` (HTTP and ``mqtt`` sending),
``periodic`` (``timeInterval`` subscriptions).
"""
