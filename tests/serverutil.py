"""A real uvicorn server on a free loopback port, in a thread, for the
server tests: started, then /healthz polled until it answers."""

from __future__ import annotations

import http.client
import socket
import threading
import time


def free_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def wait_healthy(host: str, port: int, deadline_s: float = 30.0, proc=None) -> None:
    """Poll /healthz until it answers 200 (readiness, not a sleep for luck)."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was healthy")
        try:
            c = http.client.HTTPConnection(host, port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError as e:
            last = e
        time.sleep(0.02)
    raise RuntimeError(f"the server at {host}:{port} did not become healthy: {last}")


class ThreadServer:
    """uvicorn serving app in a thread until stop()."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        wait_healthy("127.0.0.1", self.port)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
