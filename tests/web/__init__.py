"""The dashboard's browser tests: a package, so that its conftest.py is ``web.conftest`` and a test's
``from conftest import …`` still finds tests/conftest.py."""
