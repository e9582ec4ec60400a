"""Each photo test gets its own empty storage folder in place of the app's."""
from __future__ import annotations

import pytest

from media.storage import LocalStorage


@pytest.fixture
def storage(app, tmp_path):
    local = LocalStorage(tmp_path / "photos")
    previous = app.extensions["fixquest.storage"]
    app.extensions["fixquest.storage"] = local
    yield local
    app.extensions["fixquest.storage"] = previous

