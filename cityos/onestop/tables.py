"""The tables of one-stop services: each part declares its own in a ``*_tables`` module imported here, so
that the migrations' metadata holds them all."""

from __future__ import annotations

from cityos.onestop import credential_tables as credential_tables  # e-certificates, seals
