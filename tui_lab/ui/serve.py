"""Serve the lab to a browser with textual-serve, guarded the way Jupyter guards a notebook.

Every browser connection starts a lab process that can train, read and write files as the
user, so the server (``LabServer``, a textual-serve ``Server``):

- binds loopback unless told otherwise, and warns loudly when told otherwise;
- prints a URL with a random token; the page it serves keeps the token in a SameSite cookie,
  so the page's own WebSocket carries it, and a WebSocket without it is refused;
- refuses a WebSocket whose ``Origin`` is another site: browsers let any web page open a
  WebSocket to localhost, so without this check any page the user visits could drive the lab;
- runs at most ``MAX_LABS`` labs at once.
"""

from __future__ import annotations

import ipaddress
import secrets
import shlex
import sys
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from tui_lab.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
MAX_LABS = 4  # lab processes at once: each one trains on this machine's cores


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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


class LabServer(Server):
    """textual-serve's server with a token, an Origin check and a limit on labs."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        token: str | None = None,
        max_labs: int = MAX_LABS,
    ) -> None:
        super().__init__(command, host=host, port=port, title="tui-lab")
        self.token = token or secrets.token_urlsafe(24)
        self.max_labs = max_labs
        self.labs = 0
        self.cookie = f"tui_lab_token_{port}"  # per port: two labs on one host keep their own

    @property
    def url(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    def authorized(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(self.cookie) or ""
        return secrets.compare_digest(given.encode(), self.token.encode())

    async def handle_index(self, request: web.Request) -> Any:
        if not self.authorized(request):
            raise web.HTTPForbidden(
                text="tui-lab: open the URL with the token that tui-lab --serve printed.\n"
            )
        response = await super().handle_index(request)
        response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict")
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text=f"tui-lab: WebSocket from {origin} refused.\n")
        if not self.authorized(request):
            raise web.HTTPForbidden(text="tui-lab: WebSocket without the lab's token refused.\n")
        if self.labs >= self.max_labs:
            raise web.HTTPServiceUnavailable(
                text=f"tui-lab: {self.max_labs} labs are open already; close one first.\n"
            )
        self.labs += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.labs -= 1

    async def on_startup(self, app: web.Application) -> None:
        """Say nothing more: ``serve`` printed the URL with its token."""


def serve(address: str, app_argv: list[str]) -> int:
    """Run ``tui-lab APP_ARGV`` in the browser at the printed URL until Ctrl+C."""
    host, port = parse_address(address)
    command = shlex.join([sys.executable, "-m", "tui_lab", *app_argv])
    server = LabServer(command, host, port)
    if not is_loopback(host):
        print(
            f"\ntui-lab: WARNING: serving on {host}, which other machines can reach. Anyone "
            "who learns the URL below can train, read and write files as you. Prefer the "
            "default 127.0.0.1 and an SSH tunnel (ssh -L 8000:127.0.0.1:8000 HOST).\n",
            file=sys.stderr,
        )
    print(
        f"tui-lab: serving the lab at {server.url} (at most {server.max_labs} browser tabs at "
        "once; Ctrl+C to stop)",
        file=sys.stderr,
    )
    try:
        server.serve()
    except OSError as exc:
        raise ConfigError(
            f"--serve {address}: cannot listen on {host}:{port} ({exc.strerror or exc}). "
            "Choose another port, e.g. --serve 8001."
        ) from None
    return 0
