"""Every response the API tests receive is checked against the OpenAPI document."""
from __future__ import annotations

import pytest

from tests.api.contract import Contract
from tests.conftest import CsrfClient


@pytest.fixture(scope="session")
def contract(app) -> Contract:
    from api.openapi import document

    with app.test_request_context():
        return Contract(document())


class ContractClient(CsrfClient):
    """The usual test client, asserting that each /api/v1 response matches the document."""

    contract: Contract

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        self.contract.check(self.application, response)
        return response


@pytest.fixture
def client(app, ctx, contract):
    checked = ContractClient(app, app.response_class, use_cookies=True)
    checked.contract = contract
    return checked
