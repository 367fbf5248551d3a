"""A TCP -> unix-socket relay on 127.0.0.1 only, so an HTTP client without unix-socket support
can talk to the daemon.   python3 proxy.py SOCKET PORTFILE
Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, relays until killed."""

import asyncio
import os
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


async def main(sock, portfile):
    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_unix_connection(sock)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pipe(creader, uwriter), pipe(ureader, cwriter))
        for w in (uwriter, cwriter):
            w.close()

    server = await asyncio.start_server(handle, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.rename(tmp, portfile)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
