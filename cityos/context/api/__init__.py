"""The NGSI-LD API under ``/ngsi-ld/v1``: thin routes over the hub's service functions.

``ld`` holds what every NGSI-LD request carries (caller, tenant, @context, media types, body);
``entities``, ``batch``, ``types``, ``contexts``, ``temporal`` and ``subscriptions`` are the routers.
"""
