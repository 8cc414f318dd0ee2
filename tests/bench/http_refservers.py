#!/usr/bin/env python3
"""The reference servers of http.bench.py, run in their own process:
  http_refservers.py http   Python's http.server (ThreadingHTTPServer,
                            HTTP/1.1 keep-alive) answering GET /hello
  http_refservers.py ws     a Python websockets (asyncio) echo server
Prints "REF PORT <port>" once listening, then serves until killed."""
import sys


def http_ref():
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # head and body are two writes

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True
    srv = S(("127.0.0.1", 0), H)
    print("REF PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


def ws_ref():
    import asyncio
    try:
        import websockets
    except ImportError:
        print("REF FAIL install the Debian package python3-websockets", flush=True)
        sys.exit(1)

    async def echo(ws, path):
        async for msg in ws:
            await ws.send(msg)

    async def main():
        async with websockets.serve(echo, "127.0.0.1", 0, compression=None) as srv:
            print("REF PORT %d" % srv.sockets[0].getsockname()[1], flush=True)
            await asyncio.Future()
    asyncio.run(main())


if __name__ == "__main__":
    http_ref() if sys.argv[1] == "http" else ws_ref()
