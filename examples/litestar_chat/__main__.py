"""``python -m examples.litestar_chat``: serve the example (backend from ``CHANX_BACKEND``)."""

from __future__ import annotations

import argparse
import logging

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description="chanx Litestar example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        "examples.litestar_chat.app:app_from_env", factory=True, host=args.host, port=args.port
    )


if __name__ == "__main__":
    main()
