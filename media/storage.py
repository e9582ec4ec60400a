"""Where photo bytes live: one small interface, a local folder and an in-memory backend.

create_app picks one (`from_config`) and keeps it in app.extensions["fixquest.storage"].
Keys are made by us (random hex, see media.services), never from anything a user sent;
every backend still refuses a key that is not a plain name, so no key can reach outside
its folder.
"""
from __future__ import annotations

import os
import re
import tempfile
import threading
from typing import Protocol

_KEY = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
MAX_KEY_LENGTH = 100


class InvalidKey(ValueError):
    """A storage key that is not a plain lowercase name (a path, '..', empty, too long)."""


class MissingObject(LookupError):
    """Nothing is stored under that key."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class PhotoStorage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing nothing half-written (all or nothing)."""

    def open(self, key: str) -> bytes:
        """The bytes under `key`; MissingObject if there are none."""

    def delete(self, key: str) -> None:
        """Remove `key`; deleting a missing key is not an error."""

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files in a folder, spread over 256 subfolders by the key's first two characters.
    Writes go to a temporary file in the same folder and are renamed into place, so a
    reader never sees half a photo and a crash leaves at most a stray temp file."""

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))

    def _path(self, key: str) -> str:
        check_key(key)
        path = os.path.join(self.root, key[:2], key)
        if os.path.commonpath([self.root, os.path.abspath(path)]) != self.root:
            raise InvalidKey(f"not a storage key: {key!r}")
        return path

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise

    def open(self, key: str) -> bytes:
        try:
            with open(self._path(key), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise MissingObject(key) from None

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))


class MemoryStorage:
    """Photos in a dict: for tests and throwaway demos (gone when the process ends)."""

    def __init__(self):
        self._objects: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def save(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self._objects[check_key(key)] = (bytes(data), content_type)

    def open(self, key: str) -> bytes:
        try:
            return self._objects[check_key(key)][0]
        except KeyError:
            raise MissingObject(key) from None

    def delete(self, key: str) -> None:
        with self._lock:
            self._objects.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        return check_key(key) in self._objects

    def keys(self) -> list[str]:
        return sorted(self._objects)


def from_config(config) -> PhotoStorage:
    """The backend named by PHOTO_STORAGE: "local" (a folder, PHOTO_STORAGE_PATH) or
    "memory"."""
    kind = config.get("PHOTO_STORAGE", "local")
    if kind == "memory":
        return MemoryStorage()
    if kind == "local":
        return LocalStorage(config["PHOTO_STORAGE_PATH"])
    raise ValueError(f"PHOTO_STORAGE must be 'local' or 'memory', not {kind!r}")
