"""Configure Django once per test process (for the Channels tests and the conformance
driver, whichever is imported first). It sets Django's own settings and app registry
and nothing else: no environment variable, so processes other tests start are unaffected.
"""

from __future__ import annotations

import importlib

SETTINGS_MODULE = "tests.channels.settings"


def setup_django() -> None:
    import django
    from django.apps import apps
    from django.conf import settings

    if not settings.configured:
        module = importlib.import_module(SETTINGS_MODULE)
        values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
        settings.configure(**values)
    if not apps.ready:
        django.setup()
