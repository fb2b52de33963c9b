"""The temporal evolution of entities (NGSI-LD temporal API): the attribute history written with every
change (``history``), read, aggregated and rendered (``reads``), its request parameters (``params``),
kept and rolled up by retention policies (``retention``), and the use cases the routes call (``service``).
"""
