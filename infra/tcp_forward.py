"""A loopback TCP forwarder: a fixed, published port in front of a port the kernel chose.

librdkafka's mock broker always listens on a kernel-chosen port (its listener binds port 0), so a
restarted embedded broker would come back at a new address that no running client knows. The
launcher puts one of these in front of each mock broker, on a port kept in the stack dir across
restarts, and advertises that port in the cluster's metadata: clients only ever see the stable
address and reconnect to it by themselves when the broker returns.

Each connection is two blocking pump threads; TCP_NODELAY on both legs, or every small request
would wait ~40 ms for Nagle. When the broker side closes (broker down, killed) the client side is
closed too, so clients see exactly what a real broker going away looks like.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_CHUNK = 256 * 1024


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(_CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _bridge(client: socket.socket, target: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(target, timeout=5)
    except OSError:  # the broker is down: refuse like it would
        client.close()
        return
    upstream.settimeout(None)
    _nodelay(client)
    _nodelay(upstream)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


class Forwarder:
    """Listens on 127.0.0.1:`port` (0 = any free port) and forwards every connection to `target`."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A restarted launcher must get its port back while old connections sit in TIME_WAIT.
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(128)
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name=f"forward-{self.port}").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=_bridge, args=(client, self.target), daemon=True).start()

    def close(self) -> None:
        self._listener.close()
