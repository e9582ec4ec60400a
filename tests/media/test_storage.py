"""The PhotoStorage contract, run on every backend, and the local folder's own promises."""
from __future__ import annotations

import os

import pytest

from media.storage import InvalidKey, LocalStorage, MemoryStorage, MissingObject, from_config
from tests.media.samples import stored_files

BAD_KEYS = ["", "..", "../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b", ".hidden", "a..b", "a.",
            "ABC", "a b", "a\x00b", "é", "x" * 101, "%2e%2e", "~root"]


@pytest.fixture(params=["local", "memory"])
def backend(request, tmp_path):
    return LocalStorage(tmp_path / "store") if request.param == "local" else MemoryStorage()


def test_saved_bytes_come_back(backend):
    backend.save("abc123", b"picture", "image/jpeg")
    assert backend.exists("abc123")
    assert backend.open("abc123") == b"picture"


def test_saving_again_replaces(backend):
    backend.save("abc123", b"old", "image/jpeg")
    backend.save("abc123", b"new", "image/jpeg")
    assert backend.open("abc123") == b"new"


def test_a_missing_key_is_missing(backend):
    assert not backend.exists("nothing")
    with pytest.raises(MissingObject):
        backend.open("nothing")


def test_delete_removes_and_is_idempotent(backend):
    backend.save("abc123.thumb", b"t", "image/jpeg")
    backend.delete("abc123.thumb")
    backend.delete("abc123.thumb")
    assert not backend.exists("abc123.thumb")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_are_paths_are_refused(backend, key):
    for call in (lambda: backend.save(key, b"x", "image/jpeg"), lambda: backend.open(key),
                 lambda: backend.delete(key), lambda: backend.exists(key)):
        with pytest.raises(InvalidKey):
            call()


def test_local_files_stay_inside_the_folder(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    storage.save("ab12cd", b"x", "image/jpeg")
    assert stored_files(storage) == [os.path.join("ab", "ab12cd")]
    assert os.listdir(tmp_path) == ["store"]


def test_local_write_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path / "store")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        storage.save("ab12cd", b"x" * 1000, "image/jpeg")
    assert stored_files(storage) == []


def test_local_files_are_readable_by_a_web_server(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    storage.save("ab12cd", b"x", "image/jpeg")
    assert os.stat(os.path.join(storage.root, "ab", "ab12cd")).st_mode & 0o777 == 0o644


def test_the_backend_is_chosen_by_config(tmp_path):
    local = from_config({"PHOTO_STORAGE": "local", "PHOTO_STORAGE_PATH": str(tmp_path)})
    assert isinstance(local, LocalStorage) and local.root == str(tmp_path)
    assert isinstance(from_config({"PHOTO_STORAGE": "memory"}), MemoryStorage)
    with pytest.raises(ValueError):
        from_config({"PHOTO_STORAGE": "s3"})
