"""A real HTTP receiver on 127.0.0.1, in a thread of the test process, that
verifies every webhook with the official standardwebhooks library."""

import contextlib
import http.server
import threading
import time
from dataclasses import dataclass, field

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """Answers each POST with the next of `script` (status, body, headers,
    delay), then with the last one forever."""

    secrets: list[str] = field(default_factory=list)
    script: list[tuple] = field(default_factory=lambda: [(200, b"ok", {}, 0)])
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(
                    Received(headers, body, receiver._verify(body, headers))
                )
                index = min(len(receiver.received), len(receiver.script)) - 1
                status, answer, extra, delay = receiver.script[index]
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _verify(self, body: bytes, headers: dict) -> bool:
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
