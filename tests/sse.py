"""Reading Server-Sent Events from a streamed test response."""
from __future__ import annotations

import json
import time


def read_blocks(response, count: int) -> list[str]:
    """The first `count` SSE blocks of a streamed response (comments included)."""
    blocks, buffer = [], ""
    for chunk in response.response:
        buffer += chunk if isinstance(chunk, str) else chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            blocks.append(block)
            if len(blocks) == count:
                return blocks
    return blocks


def event_data(block: str) -> dict:
    return json.loads(next(line[6:] for line in block.splitlines() if line.startswith("data: ")))


def event_id(block: str) -> int:
    return int(next(line[4:] for line in block.splitlines() if line.startswith("id: ")))


def ready(hub) -> None:
    """A Redis hub's listener subscribes (and resyncs its streams) once, at its first use:
    let that happen before a test counts events."""
    if hasattr(hub, "subscribed"):
        hub.last_id("test:ready")
        assert hub.subscribed.wait(5)


def wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
