"""The operations dashboard (web pages), zh-CN first and English second."""

from cityos.web.component import component
from cityos.web.headers import SECURITY_HEADERS, SecurityHeaders

__all__ = ["SECURITY_HEADERS", "SecurityHeaders", "component"]
