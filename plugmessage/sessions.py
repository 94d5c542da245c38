"""Sessions read from the cache and written through to the database
(Django's cached_db), with two changes.

The cached copy lives CACHE_SECONDS at most, not the session's two weeks: a
logout while Redis is down deletes the row but cannot reach the cached copy
(plugmessage.cache drops the write), and that copy must not keep the
session alive for long once Redis is back. A session is read from the
database again at most once per CACHE_SECONDS.

`load_with(key)` reads the session's cached copy and another entry of the
same cache in one round trip (MGET), for the QR poll, which needs both and
nothing else.
"""

from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

CACHE_SECONDS = 300


class SessionStore(cached_db.SessionStore):
    def _cache_seconds(self, expiry=None) -> int:
        return min(CACHE_SECONDS, self.get_expiry_age(expiry=expiry))

    def load(self):
        data = self._cache.get(self.cache_key)
        if data is not None:
            return data
        return self._load_from_database()

    def _load_from_database(self) -> dict:
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        self._cache.set(self.cache_key, data, self._cache_seconds(row.expire_date))
        return data

    def save(self, must_create=False):
        # The database first, as cached_db does; the cache write cannot fail
        # here (plugmessage.cache drops it while Redis is down).
        super(cached_db.SessionStore, self).save(must_create)
        self._cache.set(self.cache_key, self._session, self._cache_seconds())

    def load_with(self, key: str, cache_alias: str = "default"):
        """Read `key` from the cache `cache_alias` and, in the same round trip
        when the session lives in that cache, this session's cached copy.
        Returns the entry (None when missing). A session missing from the
        cache is not read from the database here: it is loaded as usual
        when first used, so a caller that stops at a missing entry (the QR
        poll) costs no query."""
        other = caches[cache_alias]
        if self.session_key is None or other is not self._cache:
            return other.get(key)
        found = self._cache.get_many([self.cache_key, key])
        session = found.get(self.cache_key)
        if session is not None:
            self._session_cache = session
            self.accessed = True
        return found.get(key)
