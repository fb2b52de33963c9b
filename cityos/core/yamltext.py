"""YAML text parsed by libyaml's C parser where PyYAML was built with it, else by the pure-Python one: the same
safe subset either way. The shipped definitions, catalogues and rules are parsed at every start (each API test's
app too), and the C parser takes about a tenth of the time."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader


def parse_yaml(text: str) -> Any:
    """The document in ``text``, as ``yaml.safe_load`` gives it; raises ``yaml.YAMLError`` as it does."""
    return yaml.load(text, Loader=_SafeLoader)
