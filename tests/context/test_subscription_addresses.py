"""Notifications go to public addresses and to the private networks the operator lists: a token cannot make
the server post to internal services (SSRF), nor set the headers that pick the host or frame the body."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import Api, running, wait_for
from receivers import Receiver
from sqlalchemy import insert

from cityos.context.subscriptions import storage
from cityos.context.subscriptions.notify import Notifier
from cityos.context.tables import subscriptions as table
from cityos.core.addresses import parse_networks, permitted, refusal
from cityos.core.timefmt import now_iso

BASE = "/ngsi-ld/v1/subscriptions"
NOWHERE = pytest.mark.settings(notify_allowed_networks="")  # no private network allowed


def body(uri: str, **endpoint: Any) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "entities": [{"type": "Streetlight"}],
        "notification": {"endpoint": {"uri": uri, **endpoint}},
    }


@NOWHERE
def test_a_subscription_to_a_private_or_local_address_is_refused(api: Api) -> None:
    inside = (
        "http://127.0.0.1:8080/admin",
        "http://localhost/x",
        "https://10.1.2.3/hook",
        "http://[::1]:9/",
        "http://169.254.169.254/latest/meta-data",
        "mqtt://192.168.1.5/city/air",
        "http://0.0.0.0:22/",
    )
    for uri in inside:
        r = api.post(BASE, json=body(uri))
        assert r.status_code == 400, (uri, r.text)
        assert (
            "private or local address" in r.json()["detail"] and "CITYOS_NOTIFY_ALLOWED_NETWORKS" in r.json()["detail"]
        )
    assert api.post(BASE, json=body("http://93.184.216.34/hook")).status_code == 201  # a public address
    assert api.get(BASE).json()[0]["notification"]["endpoint"]["uri"] == "http://93.184.216.34/hook"


@pytest.mark.settings(notify_allowed_networks="10.20.0.0/16")
def test_an_operator_allows_the_networks_of_its_intranet(api: Api) -> None:
    assert api.post(BASE, json=body("http://10.20.3.4:8080/hook")).status_code == 201
    assert api.post(BASE, json=body("http://10.21.3.4:8080/hook")).status_code == 400
    assert api.post(BASE, json=body("http://127.0.0.1:8080/hook")).status_code == 400  # loopback is not listed


def test_the_host_and_hop_by_hop_headers_are_not_a_subscriptions_to_set(api: Api) -> None:
    for key in ("Host", "content-length", "Transfer-Encoding", "Connection", "Proxy-Authorization", "Upgrade"):
        r = api.post(BASE, json=body("http://127.0.0.1:9/", receiverInfo=[{"key": key, "value": "x"}]))
        assert r.status_code == 400 and key in r.json()["detail"], key
    ok = body("http://127.0.0.1:9/", receiverInfo=[{"key": "Authorization", "value": "Bearer for-the-receiver"}])
    assert api.post(BASE, json=ok).status_code == 201  # what a receiver asks for is the subscription's to give


@NOWHERE
def test_a_stored_endpoint_that_now_points_inside_is_not_sent_to(api: Api) -> None:
    """Delivery checks the address again: a name can come to resolve to a local one after it was accepted."""
    rx = Receiver()
    try:
        cfg = running(api, Notifier).config
        cfg.backoff, cfg.backoff_max, cfg.attempts, cfg.fail_after = 0.01, 0.05, 1, 10
        sid, now = "urn:ngsi-ld:Subscription:inside", now_iso()
        with api.rt.db.begin() as conn:  # stored as if accepted earlier, when the name still pointed outside
            conn.execute(insert(table).values(
                tenant="default", id=sid, body=body(rx.url) | {"id": sid}, context=None, is_active=True,
                status="active", times_sent=0, failures_in_a_row=0, created_at=now, modified_at=now,
            ))  # fmt: skip
        storage.announce(api.rt, "default", "created", sid)
        light = {
            "id": "urn:ngsi-ld:Streetlight:s1",
            "type": "Streetlight",
            "powerState": {"type": "Property", "value": "on"},
        }
        assert api.post("/ngsi-ld/v1/entities", json=light).status_code == 201
        wait_for(
            lambda: storage.get_subscription(api.rt, "default", "urn:ngsi-ld:Subscription:inside").failures_in_a_row
        )
        assert rx.attempts == 0
    finally:
        rx.close()


def test_the_address_rules() -> None:
    import ipaddress

    allowed = parse_networks("10.20.0.0/16, fd00::/8")
    for text, ok in (("8.8.8.8", True), ("10.20.1.1", True), ("10.21.1.1", False), ("127.0.0.1", False),
                     ("fd00::1", True), ("::1", False), ("169.254.1.1", False), ("224.0.0.1", False)):  # fmt: skip
        assert permitted(ipaddress.ip_address(text), allowed) is ok, text
    assert refusal("127.0.0.1", 80) == "127.0.0.1 is a private or local address (127.0.0.1)"
    assert refusal("127.0.0.1", 80, parse_networks("127.0.0.0/8")) is None
    with pytest.raises(ValueError, match="not a network"):
        parse_networks("10.0.0.0/8, intranet")


def test_a_receiver_that_redirects_is_not_followed(api: Api) -> None:
    """The address rule holds for the endpoint named, so a redirect (which could point inside) is a failure."""
    inside = Receiver()

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(307)
            self.send_header("Location", inside.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    outside = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=outside.serve_forever, daemon=True).start()
    try:
        cfg = running(api, Notifier).config
        cfg.backoff, cfg.backoff_max, cfg.attempts, cfg.fail_after = 0.01, 0.05, 1, 10
        sub = body(f"http://127.0.0.1:{outside.server_address[1]}/notify") | {"id": "urn:ngsi-ld:Subscription:r"}
        assert api.post(BASE, json=sub).status_code == 201
        light = {
            "id": "urn:ngsi-ld:Streetlight:r1",
            "type": "Streetlight",
            "powerState": {"type": "Property", "value": "on"},
        }
        assert api.post("/ngsi-ld/v1/entities", json=light).status_code == 201
        wait_for(lambda: storage.get_subscription(api.rt, "default", sub["id"]).failures_in_a_row)
        assert inside.attempts == 0
    finally:
        outside.shutdown()
        inside.close()
