"""Django for the chanx-channels tests: settings, and a test database for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.django_setup import setup_django

setup_django()


@pytest.fixture(scope="session", autouse=True)
def django_test_database() -> Iterator[None]:
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    yield
    teardown_databases(databases, verbosity=0)
    teardown_test_environment()
