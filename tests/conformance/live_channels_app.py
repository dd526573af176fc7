"""The conformance behaviours as a Channels project for a live daphne server: Django
configured with the test settings and the channel layer named by the environment
(``CHANX_TEST_CHANNEL_LAYERS``, JSON), shared with the test process."""

import importlib
import json
import os

import django
from django.conf import settings

from tests.channels.django_setup import SETTINGS_MODULE

if not settings.configured:
    module = importlib.import_module(SETTINGS_MODULE)
    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    values["CHANNEL_LAYERS"] = json.loads(os.environ["CHANX_TEST_CHANNEL_LAYERS"])
    settings.configure(**values)
    django.setup()

from tests.conformance.drivers.channels import channels_application

application = channels_application()
