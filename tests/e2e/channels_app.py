"""The conformance behaviours as a Channels project, for daphne:
``daphne tests.e2e.channels_app:application`` (Django configured with the test settings,
Channels' in-memory layer)."""

from tests.channels.django_setup import setup_django

setup_django()

from tests.conformance.drivers.channels import channels_application  # noqa: E402

application = channels_application()
