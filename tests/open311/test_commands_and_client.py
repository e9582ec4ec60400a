"""The api_key commands, and an independent Open311 client (georeport) reading this server."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from extensions import db
from open311.models import Open311ApiKey
from tests.factories import make_problem, make_user


def test_keys_create_prints_the_key_once_and_stores_only_its_digest(runner, app):
    created = runner.invoke(args=["open311", "keys", "create", "Bristol City Council"])
    assert created.exit_code == 0, created.output
    plain = created.output.strip().splitlines()[-1]
    assert plain.startswith("o311_")
    listed = runner.invoke(args=["open311", "keys", "list"])
    assert "Bristol City Council" in listed.output and "active" in listed.output and plain not in listed.output
    with app.app_context():
        key = db.session.scalar(select(Open311ApiKey))
        assert plain not in (key.key_hash, key.name)
    revoked = runner.invoke(args=["open311", "keys", "revoke", str(key.id)])
    assert revoked.exit_code == 0 and "revoked" in runner.invoke(args=["open311", "keys", "list"]).output
    client = app.test_client()
    response = client.post("/open311/v2/requests.json", csrf=False, data={
        "api_key": plain, "service_code": "pothole", "lat": "51.45", "long": "-2.58"})
    assert response.status_code == 403


def test_revoking_an_unknown_key_fails(runner, app):
    assert runner.invoke(args=["open311", "keys", "revoke", "999"]).exit_code != 0


@pytest.fixture
def live_server(app):
    """This app served on a loopback port for a real HTTP client."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_and_requests(app, live_server, fmt):
    georeport = pytest.importorskip("georeport")
    with app.app_context():
        problem = make_problem(make_user())
        problem_id = problem.id
        db.session.remove()
    client = georeport.GeoReport(live_server, output_format=fmt)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["pothole", "litter", "graffiti", "other"]
    assert client.get_service_definition("pothole")["service_code"] == "pothole"
    requests = client.get_service_requests(service_code="pothole", status="open")
    one = requests[0] if isinstance(requests, list) else requests  # xmltodict: one item is a dict
    assert one["service_request_id"] == str(problem_id)
    assert client.get_service_request(str(problem_id))["status"] == "open"
