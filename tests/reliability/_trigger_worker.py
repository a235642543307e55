"""A triggerer stand-in in its own process: rebuild one trigger from its stored form and run it.

    python -m tests.reliability._trigger_worker TRIGGER.json OUT.json

TRIGGER.json is ``{"classpath": ..., "kwargs": ...}`` with the kwargs encoded by
``Trigger.encrypt_kwargs``, the way Airflow stores a deferred task's trigger; they are decoded
with ``Trigger._decrypt_kwargs`` and the class is imported from its path, as the triggerer does. When the
trigger starts to run, ``OUT.json.started`` is written; its first event goes to OUT.json with
wall-clock times. The reliability tests SIGKILL this process while the trigger waits.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any


async def first_event(classpath: str, kwargs: dict[str, Any], started_marker: Path) -> dict[str, Any]:
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)
    started = time.time()
    started_marker.write_text(json.dumps({"started_at": started}))
    async for event in trigger.run():
        return {"started_at": started, "event_at": time.time(), "payload": dict(event.payload)}
    raise RuntimeError("the trigger ended without an event")


def main(trigger_path: str, out_path: str) -> int:
    from airflow.models.trigger import Trigger

    stored = json.loads(Path(trigger_path).read_text())
    kwargs = Trigger._decrypt_kwargs(stored["kwargs"])
    assert isinstance(kwargs, dict), kwargs
    out = Path(out_path)
    result = asyncio.run(first_event(stored["classpath"], kwargs, out.with_name(out.name + ".started")))
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
