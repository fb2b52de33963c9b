"""cityos: the city digital base."""

__version__ = "0.1.0"
