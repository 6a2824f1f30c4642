"""A threaded HTTP server on 127.0.0.1 that a fake of the outside world runs on (a subscriber, a gateway)."""

import ssl
import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    """Start and stop an HTTP server on a free port of 127.0.0.1; a subclass gives its handler class."""

    port = 0
    tls: ssl.SSLContext | None = None
    _server: ThreadingHTTPServer | None = None

    def handler(self) -> type:
        """Return the request handler class, bound to this fake."""
        raise NotImplementedError

    def start(self) -> "LocalServer":
        """Listen (again on the same port after ``stop``) in a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler())
        self.port = self._server.server_address[1]
        if self.tls:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until ``start`` again."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
