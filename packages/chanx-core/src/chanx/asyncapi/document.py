"""The AsyncAPI 3.0.0 document of a set of routes (address -> consumer class).

The document describes the server. Each route is a channel (its address, with path
parameters); each client message a handler accepts is a ``receive`` operation, whose
``reply`` lists what the handler answers; each message the server sends on the channel
(replies, group messages, event outputs, ``outgoing_messages``, the built-ins) is a
``send`` operation. Built-in messages and operations carry ``x-chanx-builtin: true``.

Names are stable: channel ids come from addresses, message ids from actions (qualified
by class name when two classes share an action), schema ids from Pydantic's model
names; every collection is sorted. The same routes give a byte-identical document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from chanx.asyncapi.schemas import message_schemas, refs_in
from chanx.constants import (
    AUTHENTICATION_ACTION,
    ERROR_ACTION,
    EVENT_ACTION_COMPLETE,
    GROUP_ACTION_COMPLETE,
    MESSAGE_ACTION_COMPLETE,
    PONG_ACTION,
)
from chanx.core.auth import DescribesSecurity, SecurityScheme
from chanx.core.decorators import CHANNEL_ATTRIBUTE, ChannelInfo
from chanx.core.handlers import Handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import BUILTIN_OUTGOING

ASYNCAPI_VERSION = "3.0.0"
BUILTIN = "x-chanx-builtin"
BUILTIN_TAG = {"name": "chanx:builtin", "description": "Every chanx consumer speaks it"}
BUILTIN_MESSAGES: frozenset[type[BaseMessage]] = frozenset({PingMessage, *BUILTIN_OUTGOING})

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_TEMPLATE_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
_CONVERTERS = {
    "str": "a string without `/`",
    "path": "a string, `/` allowed",
    "int": "an integer",
    "float": "a number",
    "uuid": "a UUID",
}
_NOT_ID = re.compile(r"[^A-Za-z0-9_]+")
_BUILTIN_SENDS = {
    PONG_ACTION: "Answer to `ping`.",
    ERROR_ACTION: (
        "Answer to a message the server could not handle: unknown action, invalid payload "
        "(`errors` lists each problem, never the input), permission denied, handler "
        "failure, oversized or binary frame. The connection stays open."
    ),
    AUTHENTICATION_ACTION: (
        "Sent once, right after the connection opens: the outcome of its authentication. "
        "A non-2xx `status_code` is followed by a close with code 4000 + status."
    ),
    MESSAGE_ACTION_COMPLETE: "Sent after a client message has been fully handled.",
    GROUP_ACTION_COMPLETE: "Sent right after each group message.",
    EVENT_ACTION_COMPLETE: "Sent after each server-side event has been handled.",
}


@dataclass(frozen=True)
class Route:
    """One websocket route: the consumer class serving ``address``.

    ``address`` uses ``{name}`` for path parameters; ``parameters`` may describe them
    (``{"room": "slug"}``). ``security`` adds credential schemes the framework knows of
    (route guards, mount dependencies) to those the consumer's authenticator describes.
    ``authenticates`` says whether connections get the ``authentication`` message;
    ``None`` infers it from the consumer (an ``authenticator``, or an ``authenticate``
    of its own).
    """

    address: str
    consumer: type[AsyncJsonWebsocketConsumer]
    parameters: Mapping[str, str] = field(default_factory=dict)
    security: tuple[SecurityScheme, ...] = ()
    authenticates: bool | None = None

    @classmethod
    def from_template(
        cls,
        path: str,
        consumer: type[AsyncJsonWebsocketConsumer],
        security: tuple[SecurityScheme, ...] = (),
        authenticates: bool | None = None,
    ) -> Route:
        """The route at a path template in the ``{name}`` / ``{name:converter}`` style of
        Starlette, FastAPI and Litestar: each converter describes its parameter and is
        left out of the address (``/seat/{seat:int}`` is at ``/seat/{seat}``)."""
        parameters = {
            name: f"Path parameter `{name}`: {_CONVERTERS.get(kind or 'str', kind)}."
            for name, kind in _TEMPLATE_PARAMETER.findall(path)
        }
        address = _TEMPLATE_PARAMETER.sub(lambda m: "{" + m.group(1) + "}", path) or "/"
        return cls(address, consumer, parameters, security, authenticates)


@dataclass(frozen=True)
class Info:
    """The document's ``info`` and ``servers``. ``servers`` maps a name to a URL
    (``{"production": "wss://chat.example.com"}``)."""

    title: str = "WebSocket API"
    version: str = "0.1.0"
    description: str = ""
    servers: Mapping[str, str] = field(default_factory=dict)


def build_document(routes: Iterable[Route], info: Info | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document (JSON-compatible data) for ``routes``."""
    return _Builder(sorted(routes, key=_route_key), info or Info()).build()


# ---------------------------------------------------------------------------- building


@dataclass
class _Sent:
    """Why a channel's consumer sends one message class."""

    replies_to: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    outside_handlers: bool = False


class _Builder:
    def __init__(self, routes: list[Route], info: Info) -> None:
        self.routes = routes
        self.info = info
        self.channel_ids = _channel_ids(routes)
        self.message_ids = _message_ids(routes)
        self.schemes: dict[str, dict[str, Any]] = {}
        self.http_base = _http_base(info.servers)

    def build(self) -> dict[str, Any]:
        incoming, outgoing = self._message_sets()
        pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            *((m, "validation") for m in sorted(incoming, key=self._message_sort)),
            *((m, "serialization") for m in sorted(outgoing, key=self._message_sort)),
        ]
        payloads, schemas = message_schemas(pairs)
        for model, mode in pairs:
            if mode == "validation":  # ``action`` has a default, but the wire needs it
                _require(schemas, payloads[(model, mode)], "action")
        messages: dict[str, dict[str, Any]] = {}
        for model, mode in pairs:
            assert issubclass(model, BaseMessage)
            messages[self.message_ids[model]] = self._message(model, payloads[(model, mode)])
        channels: dict[str, Any] = {}
        operations: dict[str, Any] = {}
        for route, channel_id in zip(self.routes, self.channel_ids, strict=True):
            channels[channel_id] = self._channel(route)
            operations.update(self._operations(route, channel_id))
        document: dict[str, Any] = {"asyncapi": ASYNCAPI_VERSION, "info": self._info()}
        if self.info.servers:
            document["servers"] = {
                name: _server(url) for name, url in sorted(self.info.servers.items())
            }
        document["defaultContentType"] = "application/json"
        document["channels"] = channels
        document["operations"] = dict(sorted(operations.items()))
        components: dict[str, Any] = {"messages": dict(sorted(messages.items()))}
        components["schemas"] = schemas
        if self.schemes:
            components["securitySchemes"] = dict(sorted(self.schemes.items()))
        document["components"] = components
        _check_refs(document)
        return document

    # ------------------------------------------------------------------ pieces

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"title": self.info.title, "version": self.info.version}
        if self.info.description:
            info["description"] = self.info.description
        return info

    def _message_sets(self) -> tuple[set[type[BaseMessage]], set[type[BaseMessage]]]:
        incoming: set[type[BaseMessage]] = set()
        outgoing: set[type[BaseMessage]] = set()
        for route in self.routes:
            incoming.update(route.consumer.message_handlers.inputs())
            outgoing.update(self._sent(route))
        return incoming, outgoing

    def _message_sort(self, model: type[BaseMessage]) -> str:
        return self.message_ids[model]

    def _message(self, model: type[BaseMessage], payload: dict[str, Any]) -> dict[str, Any]:
        summary, description = _doc_parts(model.__doc__)
        message: dict[str, Any] = {"name": model.message_action, "title": model.__name__}
        if summary:
            message["summary"] = summary
        if description:
            message["description"] = description
        message["payload"] = payload
        if model in BUILTIN_MESSAGES:
            message["tags"] = [dict(BUILTIN_TAG)]
            message[BUILTIN] = True
        return message

    def _channel(self, route: Route) -> dict[str, Any]:
        consumer = route.consumer
        meta = getattr(consumer, CHANNEL_ATTRIBUTE, None)
        meta = meta if isinstance(meta, ChannelInfo) else ChannelInfo()
        summary, description = _doc_parts(consumer.__doc__)
        channel: dict[str, Any] = {"address": route.address}
        channel["title"] = meta.name or _words(consumer.__name__)
        if summary and summary != meta.description:
            channel["summary"] = summary
        text = meta.description or description
        if text:
            channel["description"] = text
        names = _PLACEHOLDER.findall(route.address)
        if names:
            channel["parameters"] = {
                name: {"description": route.parameters.get(name) or f"Path parameter `{name}`."}
                for name in names
            }
        models = {*consumer.message_handlers.inputs(), *self._sent(route)}
        channel["messages"] = {
            self.message_ids[m]: {"$ref": f"#/components/messages/{self.message_ids[m]}"}
            for m in sorted(models, key=self._message_sort)
        }
        if meta.tags:
            channel["tags"] = [{"name": tag} for tag in meta.tags]
        return channel

    def _operations(self, route: Route, channel_id: str) -> dict[str, Any]:
        consumer = route.consumer
        channel_ref = {"$ref": f"#/channels/{channel_id}"}
        security = self._security(route)
        ops: dict[str, Any] = {}

        def message_ref(model: type[BaseMessage]) -> dict[str, str]:
            return {"$ref": f"#/channels/{channel_id}/messages/{self.message_ids[model]}"}

        always = [m for m in BUILTIN_OUTGOING if m.message_action == ERROR_ACTION]
        if consumer.send_completion:
            always += [m for m in BUILTIN_OUTGOING if m.message_action == MESSAGE_ACTION_COMPLETE]
        for handler in _handlers(consumer.message_handlers.by_action.values()):
            for model in handler.message_types:
                op: dict[str, Any] = {"action": "receive", "channel": channel_ref}
                summary = handler.options.summary
                doc_summary, doc_description = _doc_parts(handler.func.__doc__)
                op["summary"] = summary or doc_summary or f"Handle `{model.message_action}`"
                description = handler.options.description or doc_description
                if description:
                    op["description"] = description
                op["messages"] = [message_ref(model)]
                replies = _unique([*handler.reply_types, *always])
                op["reply"] = {
                    "channel": channel_ref,
                    "messages": [message_ref(r) for r in replies],
                }
                if security:
                    op["security"] = security
                if model in BUILTIN_MESSAGES:
                    op["tags"] = [dict(BUILTIN_TAG)]
                    op[BUILTIN] = True
                ops[f"{channel_id}.receive.{model.message_action}"] = op
        for model, why in self._sent(route).items():
            op = {"action": "send", "channel": channel_ref}
            op["summary"] = _send_summary(model, why)
            op["messages"] = [message_ref(model)]
            if security:
                op["security"] = security
            if model in BUILTIN_MESSAGES:
                op["tags"] = [dict(BUILTIN_TAG)]
                op[BUILTIN] = True
            if why.events:
                op["x-chanx-events"] = why.events
            ops[f"{channel_id}.send.{model.message_action}"] = op
        return ops

    def _sent(self, route: Route) -> dict[type[BaseMessage], _Sent]:
        """Every message class the route's consumer sends, and why (in a stable order)."""
        consumer = route.consumer
        sent: dict[type[BaseMessage], _Sent] = {}
        for handler in _handlers(consumer.message_handlers.by_action.values()):
            actions = [m.message_action or "" for m in handler.message_types]
            for model in handler.output_types:
                why = sent.setdefault(model, _Sent())
                if model in handler.reply_types:
                    why.replies_to.extend(actions)
                else:
                    why.handlers.extend(actions)
        for handler in _handlers(consumer.event_handlers.by_action.values()):
            for model in handler.output_types:
                events = [m.message_action or "" for m in handler.message_types]
                sent.setdefault(model, _Sent()).events.extend(events)
        for model in consumer.outgoing_messages:
            sent.setdefault(model, _Sent()).outside_handlers = True
        authenticates = route.authenticates
        if authenticates is None:
            authenticates = _authenticates(consumer)
        for model in BUILTIN_OUTGOING:
            action = model.message_action
            if action == AUTHENTICATION_ACTION and not authenticates:
                continue
            if action in _COMPLETIONS and not consumer.send_completion:
                continue
            if action == EVENT_ACTION_COMPLETE and not consumer.event_handlers.by_action:
                continue
            sent.setdefault(model, _Sent())
        for why in sent.values():
            why.replies_to = sorted(set(why.replies_to))
            why.handlers = sorted(set(why.handlers))
            why.events = sorted(set(why.events))
        return dict(sorted(sent.items(), key=lambda item: self.message_ids[item[0]]))

    def _security(self, route: Route) -> list[dict[str, str]]:
        schemes: list[SecurityScheme] = []
        authenticator = route.consumer.authenticator
        if isinstance(authenticator, DescribesSecurity):
            schemes.extend(authenticator.security_schemes())
        schemes.extend(route.security)
        refs: list[dict[str, str]] = []
        for scheme in _unique(schemes):
            name, body = _security_scheme(scheme, self.http_base)
            # Two different schemes with one name (say, two cookies' descriptions): the
            # later one (in route order) gets a numbered name.
            candidate, n = name, 2
            while self.schemes.get(candidate, body) != body:
                candidate, n = f"{name}_{n}", n + 1
            self.schemes[candidate] = body
            refs.append({"$ref": f"#/components/securitySchemes/{candidate}"})
        return refs


_COMPLETIONS = {MESSAGE_ACTION_COMPLETE, GROUP_ACTION_COMPLETE, EVENT_ACTION_COMPLETE}


def _send_summary(model: type[BaseMessage], why: _Sent) -> str:
    action = model.message_action or ""
    if action in _BUILTIN_SENDS and not (why.replies_to or why.handlers or why.events):
        return _BUILTIN_SENDS[action]
    parts: list[str] = []
    if why.replies_to:
        parts.append("Answer to " + _code_list(why.replies_to) + ".")
    if why.handlers:
        parts.append(
            "Sent while handling " + _code_list(why.handlers) + " (to this client or its groups)."
        )
    if why.events:
        parts.append("Sent when the server-side event " + _code_list(why.events) + " is handled.")
    if why.outside_handlers:
        parts.append("Sent outside any handler (connection hooks, tasks).")
    return " ".join(parts) or f"Sends `{action}`."


def _code_list(actions: Sequence[str]) -> str:
    return ", ".join(f"`{a}`" for a in actions)


def _authenticates(consumer: type[AsyncJsonWebsocketConsumer]) -> bool:
    """Whether the consumer has an authentication step: an ``authenticator``, or an
    ``authenticate`` written outside chanx's own base classes."""
    if consumer.authenticator is not None:
        return True
    for klass in consumer.__mro__:
        if "authenticate" in vars(klass):
            return not klass.__module__.startswith("chanx.")
    return False


def _handlers(handlers: Iterable[Handler]) -> list[Handler]:
    unique: list[Handler] = []
    for handler in handlers:
        if all(handler is not other for other in unique):
            unique.append(handler)
    return sorted(unique, key=lambda h: h.name)


def _unique(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _require(schemas: dict[str, Any], payload: dict[str, Any], name: str) -> None:
    ref = payload.get("$ref", "")
    schema = schemas.get(ref.rpartition("/")[2]) if ref else payload
    if schema is None:
        raise AssertionError(f"no schema for {ref!r}")
    required = schema.setdefault("required", [])
    if name not in required:
        required.insert(0, name)


def _route_key(route: Route) -> tuple[str, str]:
    return (route.address, f"{route.consumer.__module__}.{route.consumer.__qualname__}")


def _channel_ids(routes: Sequence[Route]) -> list[str]:
    ids: list[str] = []
    for route in routes:
        base = _NOT_ID.sub("_", route.address).strip("_") or "root"
        candidate, n = base, 2
        while candidate in ids:
            candidate, n = f"{base}_{n}", n + 1
        ids.append(candidate)
    return ids


def _message_ids(routes: Sequence[Route]) -> dict[type[BaseMessage], str]:
    models: set[type[BaseMessage]] = set()
    for route in routes:
        consumer = route.consumer
        models.update(consumer.message_handlers.inputs())
        models.update(consumer.outgoing_message_types())
    by_action: dict[str, list[type[BaseMessage]]] = {}
    for model in models:
        by_action.setdefault(model.message_action or "", []).append(model)
    ids: dict[type[BaseMessage], str] = {}
    for action, group in by_action.items():
        if len(group) == 1:
            ids[group[0]] = action
            continue
        short = {m: f"{action}.{m.__name__}" for m in group}
        clash = len(set(short.values())) < len(group)
        for model in group:
            qualified = f"{model.__module__}.{model.__qualname__}"
            ids[model] = f"{action}.{qualified}" if clash else short[model]
    return ids


_RST_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")


def _doc_parts(doc: str | None) -> tuple[str, str]:
    """A docstring's first paragraph (one line) and the rest, reStructuredText's
    literals and cross-references written as Markdown code."""
    if not doc:
        return "", ""
    doc = _RST_ROLE.sub(r"`\1`", doc).replace("``", "`")
    lines = [line.strip() for line in doc.strip().splitlines()]
    try:
        blank = lines.index("")
    except ValueError:
        blank = len(lines)
    summary = " ".join(lines[:blank])
    rest = "\n".join(lines[blank + 1 :]).strip()
    return summary, rest


def _words(class_name: str) -> str:
    name = class_name.removesuffix("Consumer") or class_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def _http_base(servers: Mapping[str, str]) -> str | None:
    """``http(s)://host/path`` of the first server (by name), for relative OAuth2 URLs."""
    if not servers:
        return None
    url = servers[sorted(servers)[0]]
    scheme, _, rest = url.partition("://")
    return f"{'https' if scheme == 'wss' else 'http'}://{rest}"


def _server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"a server URL is ws:// or wss:// with a host, got {url!r}")
    server: dict[str, Any] = {"host": parts.netloc, "protocol": parts.scheme}
    if parts.path and parts.path != "/":
        server["pathname"] = parts.path.rstrip("/")
    return server


def _security_scheme(scheme: SecurityScheme, base: str | None) -> tuple[str, dict[str, Any]]:
    """The component name and AsyncAPI object for ``scheme``; ``base`` (``http(s)://host``)
    makes OAuth2's relative URLs absolute, as AsyncAPI requires."""
    body: dict[str, Any]
    description = scheme.description
    if scheme.location in ("header", "query", "cookie"):
        body = {"type": "httpApiKey", "name": scheme.name, "in": scheme.location}
        name = f"{scheme.location}_{scheme.name}"
    elif scheme.location == "http":
        body = {"type": "http", "scheme": scheme.name.lower()}
        if scheme.bearer_format and scheme.name.lower() == "bearer":
            body["bearerFormat"] = scheme.bearer_format
        name = f"http_{scheme.name.lower()}"
    else:
        urls = {"authorizationUrl": scheme.authorization_url, "tokenUrl": scheme.token_url}
        needed = _OAUTH2_URLS.get(scheme.name, ())
        absolute = {key: _absolute(urls[key], base) for key in needed}
        if any(url is None for url in absolute.values()):
            # No absolute URL to give: still a bearer token in the Authorization header.
            where = ", ".join(f"{key} {urls[key]}" for key in needed)
            body = {"type": "http", "scheme": "bearer"}
            description = description or f"An OAuth2 token ({scheme.name} flow: {where})."
            name = f"oauth2_{scheme.name}"
        else:
            flow: dict[str, Any] = {"availableScopes": dict(sorted(scheme.scopes.items()))}
            flow.update(absolute)
            body = {"type": "oauth2", "flows": {scheme.name: flow}}
            scopes = sorted(scheme.scopes)
            if scopes:
                body["scopes"] = scopes
            name = f"oauth2_{scheme.name}"
    if description:
        body["description"] = description
    return _NOT_ID.sub("_", name).strip("_"), body


_OAUTH2_URLS = {
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
    "clientCredentials": ("tokenUrl",),
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
}


def _absolute(url: str, base: str | None) -> str | None:
    if urlsplit(url).scheme:
        return url
    if base is None or not url:
        return None
    return base.rstrip("/") + "/" + url.lstrip("/")


def _check_refs(document: dict[str, Any]) -> None:
    """Every local ``$ref`` resolves (a dangling one is a bug here, not the user's)."""
    for ref in sorted(refs_in(document)):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise AssertionError(f"dangling $ref {ref!r} in the generated document")
            node = node[part]
