"""A TLS front for tests: accepts https on 127.0.0.1 (a free port, printed as
"listening on PORT") with the given certificate and key, and forwards the bytes to a plain
HTTP server on 127.0.0.1:UPSTREAM. ferrohub-proxy does not terminate TLS yet, so this is how a
JupyterHub behind it is served over https in the tests.

Usage: python tls_front.py CERT KEY UPSTREAM_PORT
"""

import asyncio
import ssl
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def forward(client_reader, client_writer, upstream):
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))


async def main():
    cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(
        lambda r, w: forward(r, w, upstream), "127.0.0.1", 0, ssl=context
    )
    print("listening on", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
