"""``hatch run demo``: serve the chat on http://127.0.0.1:8000 (``--port`` to change)."""

from __future__ import annotations

import argparse
import logging

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description="chanx demo chat (in-memory, no services)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"chanx demo: open http://{args.host}:{args.port}/ in two browser tabs")
    uvicorn.run("examples.demo.app:app", host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
