"""The operations dashboard (web pages), zh-CN first and English second."""
