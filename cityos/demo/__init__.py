"""The demo district (Huangpu-like): its entities, how they are loaded, and `cityos demo`."""
