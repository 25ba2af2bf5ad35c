"""Echo server for Duplex interop tests, on Python's websockets library.

Usage: python_echo_server.py deflate|plain

Prints "listening PORT" once it listens on 127.0.0.1, then "closed CODE REASON"
each time a connection ends. Echoes every message with its type; the text
message "close:CODE:REASON" makes it close the connection with that code.
"""
import asyncio
import sys

import websockets


async def handler(ws):
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("close:"):
                code, _, reason = msg[len("close:"):].partition(":")
                await ws.close(int(code), reason)
                break
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    print(f"closed {ws.close_code} {ws.close_reason}", flush=True)


async def main():
    compression = "deflate" if sys.argv[1] == "deflate" else None
    async with websockets.serve(handler, "127.0.0.1", 0, compression=compression, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
