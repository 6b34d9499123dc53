"""``inrcodec play FILE``: the web player (web/dist, built by ``npm run build`` in web/) and FILE on a
local static server, so that a file just encoded can be watched in a browser tab.

The server is the standard library's, bound to 127.0.0.1 only. It serves the built player at ``/``
and the given files at their own paths, with the headers that let onnxruntime-web use threads
(cross-origin isolation: COOP ``same-origin`` and COEP ``require-corp``); the player's files are
revalidated, the videos never cached, so that a file encoded again under the same name plays anew. Nothing is fetched from elsewhere.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from .errors import InrInputError

HOST = "127.0.0.1"
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# the player's files may be cached (revalidated each time: Chromium then keeps the compiled wasm);
# the videos never are, so that a file encoded again under the same name plays anew
CACHE = {".inr": "no-store"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
         ".inr": "application/octet-stream", ".map": "application/json"}


def default_dist() -> str:
    """The built player: $INRCODEC_WEB_DIST, else web/dist of the source tree this package sits in."""
    env = os.environ.get("INRCODEC_WEB_DIST")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web", "dist")


class _Handler(SimpleHTTPRequestHandler):
    """The player's files from ``directory``; each of ``files`` (URL path -> file) at its path."""

    files: dict[str, str] = {}
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def translate_path(self, path: str) -> str:
        url_path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        if url_path in self.files:
            return self.files[url_path]
        return super().translate_path(path)

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        ext = os.path.splitext(urllib.parse.urlsplit(self.path).path)[1]
        self.send_header("Cache-Control", CACHE.get(ext, "no-cache"))
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # quiet: the URL is what the user needs
        pass

    def copyfile(self, source, outputfile) -> None:
        """The body by sendfile (the kernel copies it): onnxruntime-web's 15 MB of wasm arrive in a few
        milliseconds, where the standard copy loop took 140-320 ms of the first frame's second."""
        try:
            self.connection.sendfile(source)
        except (AttributeError, OSError, ValueError):
            super().copyfile(source, outputfile)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A browser that drops a connection (a new file opened mid-read) is not an error to print."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def make_server(files: dict[str, str], dist: str | None = None, port: int = 0) -> ThreadingHTTPServer:
    """A server (not yet serving) on 127.0.0.1:``port`` (0: any free port) for the player in ``dist``
    (default: ``default_dist()``) and ``files`` (URL path such as ``/a.inr`` -> file on disk).
    InrInputError when the player is not built or a file is missing."""
    dist = dist or default_dist()
    if not os.path.isfile(os.path.join(dist, "index.html")):
        raise InrInputError(f"the web player is not built in {dist}: run 'npm ci && npm run build' in web/")
    for url, path in files.items():
        if not os.path.isfile(path):
            raise InrInputError(f"{path}: no such file")
        if not url.startswith("/"):
            raise InrInputError(f"{url}: a URL path starts with /")
    handler = type("PlayHandler", (_Handler,), {"files": {u: os.path.abspath(p) for u, p in files.items()}})
    try:
        return _Server((HOST, port), functools.partial(handler, directory=dist))
    except OSError as e:
        raise InrInputError(f"cannot listen on {HOST}:{port}: {e.strerror}") from None


def file_url(server: ThreadingHTTPServer, url_path: str) -> str:
    """The player's address that opens ``url_path``: http://127.0.0.1:PORT/?src=/name.inr."""
    return f"http://{HOST}:{server.server_address[1]}/?src={urllib.parse.quote(url_path)}"


def play(path: str | os.PathLike, port: int = 0, dist: str | None = None, out=None,
         ready: threading.Event | None = None, stop: threading.Event | None = None) -> None:
    """Serve the web player and the file ``path`` on 127.0.0.1:``port`` (0: a free one), print the URL
    that plays it, and serve until interrupted (Ctrl-C) or ``stop`` is set. InrInputError (exit 7) when
    the file is missing, the player is not built (web/: npm ci && npm run build) or the port is taken."""
    path = os.fspath(path)
    url_path = "/" + os.path.basename(path)
    server = make_server({url_path: path}, dist, port)
    # Ctrl-C only sets ``stop``, and a thread shuts the server down: a KeyboardInterrupt raised wherever
    # the main thread happened to be (starting a handler's thread, closing a socket) could leave the
    # process hanging (tests/web/test_play.py timed out twice in full runs under load, never alone).
    # The handler is in place before the URL is printed, so a Ctrl-C as soon as it shows ends it too
    stop = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    print(file_url(server, url_path), file=out or sys.stdout, flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
