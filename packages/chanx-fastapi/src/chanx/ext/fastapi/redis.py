"""Deprecated: the Redis group layer moved to core as :mod:`chanx.core.redis`
(``pip install "chanx-core[redis]"``). This alias goes away in the next release."""

import warnings

from chanx.core.redis import RedisGroupLayer, RedisLayerError

warnings.warn(
    "chanx.ext.fastapi.redis is deprecated: import RedisGroupLayer and RedisLayerError "
    "from chanx.core.redis",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["RedisGroupLayer", "RedisLayerError"]
