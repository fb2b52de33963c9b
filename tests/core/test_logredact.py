"""Credentials in a request line stay out of the access log (issue 16, finding 11)."""

from __future__ import annotations

import logging

import pytest

from cityos.core.logredact import RedactSecrets, redact_target


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        (
            "/open311/v2/requests.json?api_key=s3cret&service_code=x",
            "/open311/v2/requests.json?api_key=***&service_code=x",
        ),
        ("/x?API_KEY=s3cret", "/x?API_KEY=***"),
        ("/x?access_token=a&token=b&b=1&client_secret=c", "/x?access_token=***&token=***&b=1&client_secret=***"),
        ("/cases/follow/AbC-123_x/rating", "/cases/follow/***/rating"),
        ("/open311/v2/tokens/AbC-123_x.json", "/open311/v2/tokens/***.json"),
        ("/cases?state=open&limit=5", "/cases?state=open&limit=5"),
        ("/open311/v2/services.json?keywords=a&api_key", "/open311/v2/services.json?keywords=a&api_key"),
    ],
)
def test_redact_target(target: str, logged: str) -> None:
    assert redact_target(target) == logged


def test_the_filter_rewrites_uvicorns_access_record() -> None:
    args = ("127.0.0.1:5000", "POST", "/open311/v2/requests.json?api_key=s3cret", "1.1", 201)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "POST /open311/v2/requests.json?api_key=*** HTTP/1.1" 201'
