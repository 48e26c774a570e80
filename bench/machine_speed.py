"""The machine-speed line every benchmark prints, so that runs on different machines can be set side by
side: the stdlib's compat32 parser over the same kind of replies on one process, and the processor."""

from __future__ import annotations

import email
import os
import platform
import sys
import time
from email import policy
from pathlib import Path


def compat32_seconds(raws: list[bytes]) -> float:
    """Process time for the stdlib's compat32 parser to read each message and decode its first text part."""
    started = time.process_time()
    for raw in raws:
        for part in email.message_from_bytes(raw, policy=policy.compat32).walk():
            if part.get_content_maintype() == "text":
                part.get_payload(decode=True)
                break
    return time.process_time() - started


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores"


def python() -> str:
    return f"{platform.python_version()} ({sys.executable})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
