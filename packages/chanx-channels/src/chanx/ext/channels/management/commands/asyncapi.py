"""``python manage.py asyncapi``: write the project's AsyncAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chanx.asyncapi.document import Info, build_document
from chanx.asyncapi.emit import to_json, to_yaml
from chanx.ext.channels.asyncapi import application_routes


class Command(BaseCommand):
    help = (
        "Write the AsyncAPI 3.0 document of the websocket routes in "
        "settings.ASGI_APPLICATION (or --application)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("json", "yaml"), default="json")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")
        parser.add_argument("--title", default="WebSocket API")
        parser.add_argument("--doc-version", default="0.1.0")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--server", action="append", default=[], metavar="NAME=URL", help="repeatable"
        )
        parser.add_argument("--application", help="dotted path of the ASGI application to document")

    def handle(self, *args: Any, **options: Any) -> None:
        application = None
        if options["application"]:
            from django.utils.module_loading import import_string

            application = import_string(options["application"])
        servers: dict[str, str] = {}
        for item in options["server"]:
            name, sep, url = item.partition("=")
            if not sep:
                raise CommandError(f"--server takes NAME=URL, got {item!r}")
            servers[name] = url
        try:
            routes = application_routes(application)
            info = Info(options["title"], options["doc_version"], options["description"], servers)
            document = build_document(routes, info)
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        text = to_json(document) if options["format"] == "json" else to_yaml(document)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
