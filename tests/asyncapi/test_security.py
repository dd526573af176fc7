"""Where clients put credentials, as each adapter's authenticators and routes tell it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    HTTPBasic,
    OAuth2PasswordBearer,
)

from chanx.asyncapi import Info, Route, build_document, discover_routes
from chanx.core.auth import SecurityScheme
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer as FastAPIConsumer
from chanx.ext.fastapi import DependencyAuthenticator
from tests.channels.django_setup import setup_django

oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes={"chat": "Chat with others"})
api_key = APIKeyHeader(name="X-API-Key", description="The key from your settings page.")


async def user_from(
    token: Annotated[str, Depends(oauth2)],
    x_client: Annotated[str | None, Header()] = None,
    tenant: Annotated[str | None, Query(alias="t")] = None,
) -> str:
    return token


class Members(FastAPIConsumer):
    authenticator = DependencyAuthenticator(
        user_from, dependencies=[Depends(APIKeyCookie(name="sid"))]
    )


def test_fastapi_dependency_tree() -> None:
    assert Members.authenticator is not None
    schemes = Members.authenticator.security_schemes()  # type: ignore[attr-defined]
    assert [(s.location, s.name) for s in schemes] == [
        ("cookie", "sid"),
        ("header", "x-client"),
        ("query", "t"),
        ("oauth2", "password"),
    ]
    assert schemes[3].token_url == "/token"
    assert schemes[3].scopes == {"chat": "Chat with others"}
    assert schemes[1].description == "Read by the authentication dependency `user_from`."


class Plain(FastAPIConsumer):
    pass


def fastapi_app() -> FastAPI:
    """Dependencies on a router, on a mount, and in an authenticator."""
    app = FastAPI()
    router = APIRouter(prefix="/ws", dependencies=[Depends(api_key)])
    router.add_api_websocket_route("/plain", Plain.as_endpoint())
    router.add_api_websocket_route("/basic", Plain.as_endpoint(dependencies=[Depends(HTTPBasic())]))
    app.include_router(router)
    app.add_api_websocket_route("/members", Members.as_endpoint())
    return app


def test_fastapi_route_and_mount_dependencies() -> None:
    routes = {r.address: r for r in discover_routes(fastapi_app())}
    assert routes["/ws/plain"].security == (
        SecurityScheme("header", "X-API-Key", "The key from your settings page."),
    )
    assert routes["/ws/plain"].authenticates is None  # the handshake checks it
    assert [(s.location, s.name) for s in routes["/ws/basic"].security] == [
        ("header", "X-API-Key"),
        ("http", "basic"),
    ]
    assert routes["/ws/basic"].authenticates is True  # chanx's authentication step
    document = build_document(routes.values(), Info(servers={"live": "wss://chat.example.com"}))
    assert sorted(document["components"]["securitySchemes"]) == [
        "cookie_sid",
        "header_X_API_Key",
        "header_x_client",
        "http_basic",
        "oauth2_password",
        "query_t",
    ]
    # AsyncAPI wants absolute URLs: relative ones are taken from the first server.
    assert document["components"]["securitySchemes"]["oauth2_password"] == {
        "type": "oauth2",
        "flows": {
            "password": {
                "availableScopes": {"chat": "Chat with others"},
                "tokenUrl": "https://chat.example.com/token",
            }
        },
        "scopes": ["chat"],
    }
    # Without a server, the scheme is what the client sends: a bearer token.
    serverless = build_document(routes.values())
    assert serverless["components"]["securitySchemes"]["oauth2_password"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An OAuth2 token (password flow: tokenUrl /token).",
    }
    # Both are validated with the other generated documents (test_official.py).


def test_django_session_and_drf() -> None:
    setup_django()
    from django.conf import settings
    from rest_framework.authentication import (
        BasicAuthentication,
        SessionAuthentication,
        TokenAuthentication,
    )

    from chanx.ext.channels.auth import SessionAuthenticator
    from chanx.ext.channels.drf import DRFAuthenticator

    session = SessionAuthenticator().security_schemes()
    assert [(s.location, s.name) for s in session] == [("cookie", settings.SESSION_COOKIE_NAME)]
    drf = DRFAuthenticator(
        authentication_classes=[SessionAuthentication, TokenAuthentication, BasicAuthentication]
    ).security_schemes()
    assert [(s.location, s.name, s.description) for s in drf] == [
        ("cookie", settings.SESSION_COOKIE_NAME, session[0].description),
        ("header", "Authorization", "`Authorization: Token <key>`"),
        ("http", "basic", ""),
    ]


def test_django_example_documents_its_session_cookie() -> None:
    setup_django()
    from examples.django_chat.asgi import application

    document = build_document(discover_routes(application))
    chat = document["operations"]["ws_chat.receive.chat"]
    assert chat["security"] == [{"$ref": "#/components/securitySchemes/cookie_sessionid"}]
    assert "security" not in document["operations"]["ws_rooms_room.receive.say"]


def litestar_app(**config: Any) -> Any:
    from litestar import Litestar

    from chanx.ext.litestar import ChanxPlugin, requires_user
    from chanx.ext.litestar.asyncapi import SECURITY_OPT
    from chanx.ext.litestar.testing import memory_channels
    from examples.litestar_chat.consumers import AIConsumer, ChatConsumer

    return Litestar(
        route_handlers=[
            ChatConsumer.as_route_handler("/open"),
            ChatConsumer.as_route_handler("/guarded", guards=[requires_user]),
            AIConsumer.as_route_handler(
                "/keyed", opt={SECURITY_OPT: [SecurityScheme("header", "X-Key")]}
            ),
        ],
        plugins=[memory_channels(), ChanxPlugin()],
        **config,
    )


def litestar_openapi() -> Any:
    """An OpenAPI configuration requiring a bearer token, as JWTAuth writes one."""
    from litestar.openapi import OpenAPIConfig
    from litestar.openapi.spec import Components
    from litestar.openapi.spec import SecurityScheme as OpenAPIScheme

    return OpenAPIConfig(
        title="x",
        version="1",
        components=Components(
            security_schemes={
                "BearerToken": OpenAPIScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"BearerToken": []}],
    )


def test_litestar_guards_opt_and_openapi_security() -> None:
    app = litestar_app(openapi_config=litestar_openapi())
    routes = {r.address: r for r in discover_routes(app)}
    assert routes["/open"].authenticates is None
    assert routes["/open"].security == ()
    assert routes["/guarded"].authenticates is True
    assert routes["/guarded"].security == (SecurityScheme("http", "bearer", bearer_format="JWT"),)
    assert routes["/keyed"].security == (SecurityScheme("header", "X-Key"),)
    document = build_document(routes.values())
    assert "authentication" in document["channels"]["guarded"]["messages"]
    assert "authentication" not in document["channels"]["open"]["messages"]


def test_litestar_example_documents_its_token() -> None:
    from examples.litestar_chat.app import create_app

    document = build_document(discover_routes(create_app()))
    assert document["components"]["securitySchemes"] == {
        "http_bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from the token store.",
        },
        "query_token": {
            "type": "httpApiKey",
            "name": "token",
            "in": "query",
            "description": "The same token, for browsers (no websocket headers).",
        },
    }


def test_route_schemes_add_to_the_authenticators() -> None:
    route = Route("/m", Members, security=(SecurityScheme("query", "extra"),))
    document = build_document([route])
    refs = document["operations"]["m.receive.ping"]["security"]
    assert refs[-1] == {"$ref": "#/components/securitySchemes/query_extra"}
    assert len(refs) == 5
