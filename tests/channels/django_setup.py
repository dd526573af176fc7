"""Configure Django once per test process (for the Channels tests and the conformance
driver, whichever is imported first). Nothing here touches other adapters: it only sets
Django's own settings and app registry."""

from __future__ import annotations

import os

SETTINGS_MODULE = "tests.channels.settings"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
