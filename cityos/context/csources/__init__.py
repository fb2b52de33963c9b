"""NGSI-LD context sources (ETSI GS CIM 009 v1.8, clauses 5.2.9, 5.9, 5.10, 5.11 and 6.8-6.11): the
registrations a hub holds of other brokers and sources (a district's hub registered at the city's, 市区两级),
and the subscriptions to changes of those registrations.

A registration is stored as the client gave it (names as written, ``@context`` removed, ``id`` filled in)
with the @context of the request that made it, as subscriptions are; names are expanded with that context
when it is matched against a query. The modules: ``model`` (what a registration is), ``parsing`` (a body
validated into one), ``matching`` (a discovery query against registrations), ``storage`` (the tables) and
``notify`` (csourceSubscriptions: matching registration changes, sending csourceNotifications).
"""
