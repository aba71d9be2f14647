"""Serve the lab to a browser with textual-serve. It binds loopback unless told otherwise:
a training lab is not something to expose to a network by accident."""

from __future__ import annotations

import shlex
import sys

from tui_lab.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"


def parse_address(text: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` → (host, port); the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise ConfigError(
            f"--serve {text!r}: expected PORT or HOST:PORT with a port 1–65535, e.g. --serve 8000."
        )
    return (host.strip("[]") or DEFAULT_HOST), number


def serve(address: str, app_argv: list[str]) -> int:
    """Run ``tui-lab APP_ARGV`` in the browser at http://HOST:PORT until Ctrl+C."""
    from textual_serve.server import Server

    host, port = parse_address(address)
    command = shlex.join([sys.executable, "-m", "tui_lab", *app_argv])
    print(f"tui-lab: serving the lab at http://{host}:{port} (Ctrl+C to stop)", file=sys.stderr)
    Server(command, host=host, port=port, title="tui-lab").serve()
    return 0
