"""``python -m chanx``: generate an AsyncAPI document, or compare two.

::

    python -m chanx asyncapi myproject.main:app [--format json|yaml] [-o asyncapi.json]
    python -m chanx asyncapi myproject.main:create_app --factory
    python -m chanx asyncapi-diff old.json new.json

``asyncapi`` imports ``module:attribute`` (an app, a router, Channels URL patterns or a
consumer class) from the current directory and writes its document. ``asyncapi-diff``
prints what changed and exits with 1 when a change breaks clients (0 otherwise, 2 for
bad arguments or unreadable documents).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chanx.asyncapi.diff import diff_documents, format_changes
from chanx.asyncapi.discovery import discover_routes
from chanx.asyncapi.document import Info, build_document
from chanx.asyncapi.emit import to_json, to_yaml

EXIT_BREAKING = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "asyncapi":
            return _generate(args)
        return _diff(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


class UsageError(Exception):
    """Bad arguments or input: reported on one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chanx", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("asyncapi", help="write the AsyncAPI 3.0 document of an app")
    gen.add_argument("target", help="module:attribute of an app, router or consumer class")
    gen.add_argument("--format", choices=("json", "yaml"), default="json")
    gen.add_argument("-o", "--output", help="file to write (default: standard output)")
    gen.add_argument("--title", help="info.title (default: the app's title, else the target)")
    gen.add_argument("--doc-version", default="0.1.0", help="info.version (default 0.1.0)")
    gen.add_argument("--description", default="", help="info.description")
    gen.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="a server, e.g. production=wss://chat.example.com (repeatable)",
    )
    gen.add_argument("--address", default="/", help="the address of a lone consumer class")
    gen.add_argument(
        "--factory", action="store_true", help="the target is a function returning the app"
    )
    diff = commands.add_parser(
        "asyncapi-diff", help="list changes between two documents; exit 1 on breaking ones"
    )
    diff.add_argument("old", help="the published document (JSON)")
    diff.add_argument("new", help="the new document (JSON)")
    return parser


def load_target(spec: str) -> Any:
    """Import ``module:attribute`` (dotted attributes allowed), from the current directory."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"expected module:attribute, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"{module_name!r} has no attribute {attribute!r}") from None
    return target


def _generate(args: argparse.Namespace) -> int:
    target = load_target(args.target)
    if args.factory:
        if not callable(target):
            raise UsageError(f"--factory: {args.target} is not callable")
        target = target()
    try:
        routes = discover_routes(target, address=args.address)
    except TypeError as exc:
        raise UsageError(str(exc)) from None
    servers: dict[str, str] = {}
    for item in args.server:
        name, sep, url = item.partition("=")
        if not sep:
            raise UsageError(f"--server takes NAME=URL, got {item!r}")
        servers[name] = url
    title = args.title or getattr(target, "title", None) or args.target
    info = Info(str(title), args.doc_version, args.description, servers)
    try:
        document = build_document(routes, info)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = to_json(document) if args.format == "json" else to_yaml(document)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _diff(args: argparse.Namespace) -> int:
    old, new = _read(args.old), _read(args.new)
    try:
        changes = diff_documents(old, new)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(format_changes(changes))
    return EXIT_BREAKING if any(c.breaking for c in changes) else 0


def _read(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError:
        raise UsageError(
            f"{path} is not JSON; compare JSON documents "
            "(python -m chanx asyncapi ... --format json)"
        ) from None
