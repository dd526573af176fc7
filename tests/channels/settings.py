"""Django settings for the chanx-channels tests: the example project, made quiet and fast."""

import os
import tempfile

from examples.django_chat.settings import *  # noqa: F403

# AllowedHostsOriginValidator reads ALLOWED_HOSTS when the application is built, which
# may be before Django's test environment adds "testserver".
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # A file database (connections to it really close) for the connection-hygiene tests.
    "hygiene": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {
            "NAME": os.path.join(tempfile.gettempdir(), f"chanx-hygiene-{os.getpid()}.sqlite3"),
            "MIGRATE": False,
        },
    },
}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING_CONFIG = None  # leave logging to pytest

CHANX = {
    "SEND_COMPLETION": True,  # receive_all_messages() stops on the completion signals
    "LOG_WEBSOCKET_MESSAGE": False,
    "LOG_IGNORED_ACTIONS": [],
}
