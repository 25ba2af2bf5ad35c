"""Client for Duplex interop tests, on Python's websockets library.

Usage: python_client.py ws://127.0.0.1:PORT deflate|plain

Talks to the Go test server's endpoints (/echo, /burst, /count, /close) and
prints one line per result: "extensions VALUE", "ok NAME", "server-closed CODE
REASON". On the first mismatch it prints "FAIL ..." and exits with status 1.
"""
import asyncio
import os
import sys

import websockets

UTF8 = "héllo wörld — 你好 🎉"
LARGE = 16 << 20
BURST = 1000


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


def describe(m):
    return f"{type(m).__name__} of length {len(m)}: {m[:40]!r}"


def response_headers(ws):
    # The legacy API has response_headers; the newer one has response.headers.
    headers = getattr(ws, "response_headers", None)
    return headers if headers is not None else ws.response.headers


async def main():
    base, mode = sys.argv[1], sys.argv[2]
    opts = dict(compression="deflate" if mode == "deflate" else None, max_size=None)

    async with websockets.connect(base + "/echo", **opts) as ws:
        print("extensions " + response_headers(ws).get("Sec-WebSocket-Extensions", ""), flush=True)
        cases = [
            ("text", "hello"),
            ("utf8", UTF8),
            ("empty-text", ""),
            ("binary", bytes(range(256))),
            ("empty-binary", b""),
            ("large-binary", os.urandom(LARGE)),
            ("large-text", UTF8 * (LARGE // len(UTF8.encode()))),
            ("repetitive-text", ("duplex says hello; " * 3450)[: 64 << 10]),
            ("random-binary", os.urandom(1 << 20)),
        ]
        for name, msg in cases:
            await ws.send(msg)
            got = await ws.recv()
            if type(got) is not type(msg) or got != msg:
                fail(f"{name}: sent {describe(msg)}, got back {describe(got)}")
        await ws.close(4003, "client says bye")
        print("ok messages", flush=True)

    async with websockets.connect(base + f"/burst?n={BURST}", **opts) as ws:
        for i in range(BURST):
            got = await ws.recv()
            if got != str(i):
                fail(f"burst-to-client: message {i} is {got!r}")
        print("ok burst-to-client", flush=True)

    async with websockets.connect(base + "/count", **opts) as ws:
        for i in range(BURST):
            await ws.send(str(i))
        await ws.send("end")
        got = await ws.recv()
        if got != f"ok {BURST}":
            fail(f"burst-to-server: the server answered {got!r}")
        print("ok burst-to-server", flush=True)

    async with websockets.connect(base + "/close?code=4002&reason=go+says+bye", **opts) as ws:
        try:
            got = await ws.recv()
            fail(f"server-closes: got message {got!r} instead of the close")
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        print(f"server-closed {ws.close_code} {ws.close_reason}", flush=True)


asyncio.run(main())
