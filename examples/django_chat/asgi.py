"""The example's ASGI application: Django for HTTP, chanx consumers for websockets.

Run it with ``daphne examples.django_chat.asgi:application`` or
``uvicorn examples.django_chat.asgi:application`` from the repository root.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_chat.settings")
http_application = get_asgi_application()  # sets Django up before the consumers load

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from .routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
