"""A FastAPI chat app built on chanx: rooms, HTTP endpoints that broadcast, a streaming
consumer and token authentication. Run it with ``uvicorn examples.fastapi_chat.main:app``
(set ``CHANX_REDIS_URL`` to run several workers)."""
