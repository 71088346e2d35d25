"""Django's Redis cache, keeping one client per connection pool.

Django's RedisCacheClient makes a new redis.Redis client for every cache operation; with
redis-py 5+ that builds the client's response-callback table each time (~0.15 ms), which was
half of the time of a cached tile (bench/). A client over a pool is safe to share.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


def _outage_options() -> dict:
    """A restart of Redis is a short degradation (#15, item 9): a command on a connection
    that died is retried on a new one with a short backoff, and a Redis that is away answers
    within seconds (a 503 from grids.resilience) instead of holding a web thread."""
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError
    from redis.retry import Retry

    return {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        "retry_on_error": [ConnectionError, TimeoutError],
        # A pooled connection idle this long is pinged before use.
        "health_check_interval": 30,
    }


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**_outage_options(), **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
