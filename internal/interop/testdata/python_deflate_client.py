"""permessage-deflate client for Duplex interop tests, on Python's websockets.

Usage: python_deflate_client.py ws://127.0.0.1:PORT/echo

Offers permessage-deflate with the library's defaults, prints "extensions
VALUE" (the server's answer), then sends three rounds of a short UTF-8 text,
64 KiB of repetitive text and 1 MiB of random bytes, each checked against its
echo, and prints "ok". On a mismatch it prints "FAIL ..." and exits with 1.
"""
import asyncio
import os
import sys

import websockets


def response_headers(ws):
    headers = getattr(ws, "response_headers", None)
    return headers if headers is not None else ws.response.headers


async def main():
    async with websockets.connect(sys.argv[1], compression="deflate", max_size=None) as ws:
        print("extensions " + response_headers(ws).get("Sec-WebSocket-Extensions", ""), flush=True)
        messages = ["héllo wörld — 你好 🎉", ("duplex says hello; " * 3450)[: 64 << 10], os.urandom(1 << 20)]
        for round in range(3):
            for i, msg in enumerate(messages):
                await ws.send(msg)
                got = await ws.recv()
                if type(got) is not type(msg) or got != msg:
                    print(f"FAIL round {round} message {i}: got {type(got).__name__} of length {len(got)}", flush=True)
                    sys.exit(1)
        await ws.close(1000)
    print("ok", flush=True)


asyncio.run(main())
