"""Which plugin channel carries a group: any string maps to one every backend can carry."""

from __future__ import annotations

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from chanx.core.groups import ANY_STRING
from chanx.ext.litestar import ChannelsPluginLayer


@pytest.fixture
def layer() -> ChannelsPluginLayer:
    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    return ChannelsPluginLayer(plugin, prefix="p.")


@pytest.mark.parametrize("group", ["room", "a b", "café", "q'\"", "x" * 59])
def test_names_that_fit_are_kept(layer: ChannelsPluginLayer, group: str) -> None:
    assert layer.group_channel(group) == f"p.g.{group}"


@pytest.mark.parametrize("group", ["x" * 60, "nul\x00", "lone \ud800", "é" * 30])
def test_names_no_backend_could_carry_are_hashed(layer: ChannelsPluginLayer, group: str) -> None:
    channel = layer.group_channel(group)
    assert channel.startswith("p.h.")
    assert len(channel.encode()) <= 63
    assert channel != layer.group_channel(group + "y")


def test_the_layer_takes_any_string() -> None:
    assert ChannelsPluginLayer.group_name_rule is ANY_STRING
