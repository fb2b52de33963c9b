"""The data resource system's tables. Other packages never touch them: they call cityos.datahub."""

from __future__ import annotations
