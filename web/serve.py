#!/usr/bin/env python3
"""Serve the playground on 127.0.0.1: the page from web/ and the wasm build from pkg/ (at /pkg/),
so both keep their places in the repository. Every response says `no-cache`: a reload shows the
latest build (the page's service worker keeps its own copy for offline use).

usage: serve.py [--port N] [--quiet]
"""
import argparse
import http.server
import os
import posixpath
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
PKG = os.path.join(ROOT, "pkg")


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the page's dozen requests share connections
    # TCP_NODELAY: the headers and the body go out in separate writes, and with Nagle's algorithm
    # a small body then waits for the browser's delayed ACK of the headers (40 ms on Linux) on
    # every request but a connection's first.
    disable_nagle_algorithm = True
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".c": "text/plain; charset=utf-8",
        ".h": "text/plain; charset=utf-8",
        ".s": "text/plain; charset=utf-8",
        ".S": "text/plain; charset=utf-8",
        ".md": "text/plain; charset=utf-8",
        ".conf": "text/plain; charset=utf-8",
        ".o": "application/octet-stream",
        ".a": "application/octet-stream",
    }

    def translate_path(self, path):
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".", "..")]
        base = WEB
        if parts and parts[0] == "pkg":
            base, parts = PKG, parts[1:]
        return os.path.join(base, *parts)

    def handle(self):
        # A browser closing a kept-alive connection is not an error worth a traceback.
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            super().log_message(fmt, *args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.quiet = a.quiet
    print(f"playground: http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
