"""schemathesis against the served OpenAPI document: generated requests, unsigned and
signed by real agency keys, never get a server error, and every answer (problems too)
matches what the document promises."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.crypto.signing import SigningKey
from hub.web.api import AVRO
from hub.web.auth import sign_request
from tests.support.hubs import WebHub

pytestmark = pytest.mark.timeout(900)
# the Avro envelope is bytes like any octet stream: generated ones are garbage, as they should be
schemathesis.serializer.alias(AVRO, "application/octet-stream")


class Signed(requests.auth.AuthBase):
    """Signs the request exactly as it goes on the wire: method, path with query, body."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body if isinstance(r.body, bytes) else (r.body or "").encode()
        r.headers["Authorization"] = sign_request(self.key, r.method or "GET", r.path_url, body)
        return r


@pytest.mark.parametrize("agency", [None, "sao", "bchd"])
def test_every_operation_keeps_its_documented_promises(web_hub: WebHub, agency: str | None) -> None:
    schema = schemathesis.openapi.from_url(f"{web_hub.base}/openapi.json")
    session = requests.Session()
    if agency is not None:
        session.auth = Signed(web_hub.hub.keys[agency])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            # no schema can say which bytes are a validly signed event: a submission that
            # fits the document may still be refused (422, documented), never a 5xx
            excluded = [positive_data_acceptance] if case.method == "POST" else []
            case.call_and_validate(base_url=web_hub.base, session=session, excluded_checks=excluded)

        conforms()
