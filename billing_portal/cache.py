"""A Redis cache that fails open: while Redis is unreachable, reads miss and writes are
dropped, with a log line, instead of raising. The cache only carries throttle counters
and other things the portal can do without for a while; nothing in it is the only copy.
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _fail_open(default):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (RedisError, OSError) as exc:
                logger.warning(
                    "cache unavailable (%s: %s): %s answers its default", type(exc).__name__, exc, method.__name__
                )
                return default(*args, **kwargs) if callable(default) else default

        return wrapper

    return decorate


def _get_default(key, default=None, version=None):
    return default


class FailOpenRedisCache(RedisCache):
    get = _fail_open(_get_default)(RedisCache.get)
    get_many = _fail_open({})(RedisCache.get_many)
    has_key = _fail_open(False)(RedisCache.has_key)
    set = _fail_open(None)(RedisCache.set)
    add = _fail_open(False)(RedisCache.add)
    set_many = _fail_open([])(RedisCache.set_many)
    touch = _fail_open(False)(RedisCache.touch)
    delete = _fail_open(False)(RedisCache.delete)
    delete_many = _fail_open(None)(RedisCache.delete_many)
    incr = _fail_open(lambda key, delta=1, version=None: delta)(RedisCache.incr)
    clear = _fail_open(None)(RedisCache.clear)
