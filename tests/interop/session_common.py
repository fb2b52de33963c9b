"""What the ngsildclient session scripts share: the server from the command line, and step reporting.

Imported by the scripts run from .venv-ngsild (their folder is on sys.path), never by pytest.
"""

import sys

import requests
from ngsildclient import Client

PORT, TOKEN = int(sys.argv[1]), sys.argv[2]


class Bearer(requests.auth.AuthBase):
    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {TOKEN}"
        return r


def connect():
    """A client of the server under test, with the bearer token."""
    return Client("127.0.0.1", PORT, custom_auth=Bearer(), verbose=False)


def step(name, cond, detail=""):
    """Report one step as "ok <name> <detail>"; on failure say so and exit non-zero."""
    if not cond:
        print(f"FAIL {name} {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name} {detail}", flush=True)
