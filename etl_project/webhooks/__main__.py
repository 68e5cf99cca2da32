"""`python -m etl_project.webhooks`: serve the receiver on 127.0.0.1:$WEBHOOK_PORT until SIGTERM or Ctrl-C.

Prints `webhook receiver ready at http://127.0.0.1:PORT` once it accepts connections (`WEBHOOK_PORT=0` picks a free
port, and the line says which). Logs go to stderr; `WEBHOOK_LOG_LEVEL=DEBUG` also logs each accepted event's type.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

import uvicorn

from etl_project.webhooks.app import create_app
from etl_project.webhooks.config import config_from_env
from etl_project.webhooks.inbox import Inbox

HOST = "127.0.0.1"  # a reverse proxy terminates HTTPS and forwards only the two POST paths (docs/webhooks.md)
READY = "webhook receiver ready at"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, base_url: str) -> None:
        super().__init__(config)
        self.base_url = base_url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(f"{READY} {self.base_url}", flush=True)


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no ~40 ms delayed-ACK wait per answer
    sock.bind((HOST, port))
    sock.listen(1024)
    return sock


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("WEBHOOK_LOG_LEVEL", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = config_from_env(os.environ)
    inbox = Inbox(config.inbox_path, synchronous=config.inbox_synchronous)
    log = logging.getLogger("etl_project.webhooks")
    if not config.location_ids:
        log.warning("no HighLevel location configured (HIGHLEVEL_LOCATION_IDS): every HighLevel event is ignored")
    if not config.sendowl_secret:
        log.warning("SENDOWL_WEBHOOK_SECRET is not set: every SendOwl delivery is refused")
    sock = _bind(config.port)
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    server = _Server(uvicorn.Config(create_app(config, inbox), log_level="warning", access_log=False), base_url)
    try:
        server.run(sockets=[sock])
    finally:
        inbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
