"""A Litestar chat on chanx: rooms, notifications, a streamed story, authenticated admin."""
