"""Django configured in code for the e2e apps served by daphne (no settings module):
Channels' in-memory layer, any host, chanx's completions and message logging off.
Importing this module configures it (once per process)."""

from __future__ import annotations


def configure_django() -> None:
    """Configure Django once per process (the first e2e app imported does it)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            INSTALLED_APPS=["channels"],
            DATABASES={},
            CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            CHANX={"SEND_COMPLETION": False, "LOG_WEBSOCKET_MESSAGE": False},
            USE_TZ=True,
        )
        django.setup()


configure_django()
