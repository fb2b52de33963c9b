"""The operations dashboard (web pages), zh-CN first and English second."""

from cityos.web.component import component

__all__ = ["component"]
