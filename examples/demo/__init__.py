"""A small chat on the core engine alone: rooms, presence, the in-memory layer, no services."""
