"""Helpers for tests that run `manage.py` servers as real subprocesses."""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20) -> str:
    """Terminate (then kill, if it will not stop) and return what it printed, when its output was piped."""
    process.terminate()
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
    return output.decode(errors="replace") if output else ""
