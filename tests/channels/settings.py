"""Django settings for the chanx-channels tests: the example project, made quiet and fast."""

from examples.django_chat.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING_CONFIG = None  # leave logging to pytest

CHANX = {
    "SEND_COMPLETION": True,  # receive_all_messages() stops on the completion signals
    "LOG_WEBSOCKET_MESSAGE": False,
    "LOG_IGNORED_ACTIONS": [],
}
