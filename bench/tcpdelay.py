#!/usr/bin/python3
"""A delaying TCP relay on loopback, the rougher substitute for bench/taprelay.py where network
namespaces cannot be made (no root): every chunk read from one side is written to the other
DELAY_MS later, in order. The client's TCP handshake with the relay is not delayed (the relay
accepts at once and dials the server): that round trip costs nothing here, unlike on a real link.

usage: tcpdelay.py LISTEN_PORT TARGET_PORT DELAY_MS    (127.0.0.1 both; prints "ready")
"""
import asyncio
import sys

HOST = "127.0.0.1"


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()
    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()
        writer.close()


async def main():
    listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(HOST, target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, sw, delay), pipe(sr, cw, delay), return_exceptions=True)
    server = await asyncio.start_server(handle, HOST, listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
