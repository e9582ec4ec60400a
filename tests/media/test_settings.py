"""Photo settings from the environment."""
from __future__ import annotations

import os

import pytest

import config

MIB = 1024 * 1024


def test_photo_defaults(monkeypatch, tmp_path):
    for name in ("FIXQUEST_PHOTO_MAX_BYTES", "FIXQUEST_PHOTO_MAX_PIXELS", "FIXQUEST_PHOTO_STORAGE",
                 "FIXQUEST_PHOTO_STORAGE_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["PHOTO_MAX_BYTES"] == 8 * MIB
    assert settings["PHOTO_MAX_PIXELS"] == 50_000_000  # a 48 MP phone photo fits
    assert settings["PHOTO_STORAGE"] == "local"
    assert settings["PHOTO_STORAGE_PATH"] == os.path.join(str(tmp_path), "photos")
    assert settings["MAX_CONTENT_LENGTH"] == 3 * 8 * MIB + MIB  # a form with three photos


def test_photo_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FIXQUEST_PHOTO_MAX_BYTES", str(2 * MIB))
    monkeypatch.setenv("FIXQUEST_PHOTO_MAX_PIXELS", "12000000")
    monkeypatch.setenv("FIXQUEST_PHOTO_STORAGE_PATH", str(tmp_path / "elsewhere"))
    settings = config.from_environment(str(tmp_path))
    assert (settings["PHOTO_MAX_BYTES"], settings["PHOTO_MAX_PIXELS"]) == (2 * MIB, 12_000_000)
    assert settings["PHOTO_STORAGE_PATH"] == str(tmp_path / "elsewhere")
    assert settings["MAX_CONTENT_LENGTH"] == 7 * MIB


@pytest.mark.parametrize("value", ["0", "-5", "8MB", "lots"])
def test_a_bad_photo_limit_stops_the_app_with_a_clear_message(monkeypatch, tmp_path, value):
    monkeypatch.setenv("FIXQUEST_PHOTO_MAX_BYTES", value)
    with pytest.raises(config.ConfigError, match="FIXQUEST_PHOTO_MAX_BYTES must be a whole number"):
        config.from_environment(str(tmp_path))
