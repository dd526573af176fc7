"""chanx adapter for litestar."""
