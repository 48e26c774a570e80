"""The intake SMTP server (lastweek.intake.smtp) on loopback in a thread, for tests that talk to it
with a real smtplib client.

    with running_server(process=False) as server:
        smtplib.SMTP("127.0.0.1", server.port) ...
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from lastweek.intake.smtp import IntakeServer


@contextlib.contextmanager
def running_server(*, process: bool = True, max_size: int | None = None) -> Iterator[IntakeServer]:
    server = IntakeServer("127.0.0.1", 0, process=process, max_size=max_size)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10), "the intake server did not start"
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
