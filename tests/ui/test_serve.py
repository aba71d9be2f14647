"""--serve on a real server on loopback, driven by a WebSocket client: the printed URL carries
a token, a foreign Origin or a missing token is refused before any lab process starts, and at
most a few labs run at once."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tui_lab.ui.serve import LabServer, is_loopback

ROOT = Path(__file__).resolve().parents[2]
# a stand-in for the lab: announces itself as textual-serve expects, runs until told to quit
FAKE_LAB = (
    "import sys; print('__GANGLION__', flush=True); seen = b''\n"
    "while b'quit' not in seen:\n"
    "    chunk = sys.stdin.buffer.read1(4096)\n"
    "    if not chunk: break\n"
    "    seen += chunk\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


async def handshake(url: str, **headers: str) -> int:
    """The HTTP status a WebSocket handshake gets (101: a lab was started)."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


@pytest.fixture
def served(tmp_path):
    """``tui-lab --serve PORT`` as a user starts it: (process, base URL, token)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_lab", "--serve", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"at (http://127\.0\.0\.1:(\d+))/\?token=([\w-]+)", line)
    assert found, line
    base, token = found.group(1), found.group(3)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    yield proc, base, token
    proc.terminate()
    proc.wait(timeout=30)


def test_the_served_lab_refuses_a_foreign_origin_and_a_missing_token(served):
    proc, base, token = served
    ws = base.replace("http", "ws") + "/ws"

    async def probe() -> tuple[int, int, int, int]:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/") as page:
                without = page.status
            async with session.get(f"{base}/?token={token}") as page:
                with_token = page.status
                assert "HttpOnly" in page.headers["Set-Cookie"]
        foreign = await handshake(f"{ws}?token={token}", Origin="http://evil.example")
        missing = await handshake(ws, Origin=base)
        return without, with_token, foreign, missing

    assert asyncio.run(probe()) == (403, 200, 403, 403)
    assert children(proc.pid) == []  # no lab process was started for any of them


def test_the_page_s_own_websocket_starts_a_lab(served):
    proc, base, token = served

    async def connect() -> int:
        jar = aiohttp.CookieJar(unsafe=True)  # keeps the cookie of a bare IP address
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(f"{base}/?token={token}") as page:
                assert page.status == 200
            ws_url = base.replace("http", "ws") + "/ws?width=80&height=24"
            async with session.ws_connect(ws_url, headers={"Origin": base}) as ws:
                for _ in range(100):
                    if children(proc.pid):
                        break
                    await asyncio.sleep(0.05)
                started = len(children(proc.pid))
                await ws.close()
                return started

    assert asyncio.run(connect()) == 1


async def settle(done, seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if done():
            return
        await asyncio.sleep(0.05)


def test_at_most_max_labs_run_at_once():
    async def scenario() -> list[int]:
        server = LabServer(shlex.join([sys.executable, "-c", FAKE_LAB]), "127.0.0.1", 0, "t", 2)
        runner = web.AppRunner(await server._make_app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"ws://127.0.0.1:{port}/ws?token=t"
        statuses = []
        try:
            async with aiohttp.ClientSession() as session:
                first = await session.ws_connect(url)
                second = await session.ws_connect(url)
                statuses.append(await handshake(url))  # a third, while two labs run
                await first.close()
                await settle(lambda: server.labs < 2)  # its lab has quit
                statuses.append(await handshake(url))
                await second.close()
                await settle(lambda: server.labs == 0)
        finally:
            await runner.cleanup()
        return statuses

    assert asyncio.run(scenario()) == [503, 101]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("lab", False)],
)
def test_binds_other_than_loopback_are_recognized(host, loopback):
    assert is_loopback(host) is loopback


def test_a_non_loopback_bind_warns_loudly():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_lab", "--serve", f"0.0.0.0:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        head = "".join(proc.stderr.readline() for _ in range(4))
        assert "WARNING: serving on 0.0.0.0" in head and "?token=" in head
    finally:
        proc.terminate()
        proc.wait(timeout=30)
