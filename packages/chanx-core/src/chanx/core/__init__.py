"""The framework-neutral engine: decorators, the consumer, group layers and authentication."""
