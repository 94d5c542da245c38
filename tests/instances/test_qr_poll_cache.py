"""The unchanged QR poll on the production stack: one cache round trip (the
session and the poll's entry together) and no query, while the answer stays
right for the owner, another customer, a visitor and after a change; and
with Redis down, the poll and the login fall back to the database."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from redis.connection import AbstractConnection

from instances import services
from instances.engines.base import EngineEvent
from plugmessage.sessions import CACHE_SECONDS
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _poll(client, instance, version=None):
    url = reverse("instances:qr", args=[instance.pk])
    return client.get(url, {"v": version} if version else {}, **HTMX)


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Every request written to a Redis socket (a pipeline or an MGET is
    one), as the commands it carried."""
    if settings.CACHES["default"]["BACKEND"] != "plugmessage.cache.RedisCache":
        pytest.skip("the cache's round trips are counted on Redis (REDIS_URL)")
    sent = []
    original = AbstractConnection.send_packed_command

    def send(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
    return sent


@pytest.fixture
def warm(owner_client, instance):
    """The owner's open page has polled once: its entry is in the cache."""
    assert _poll(owner_client, instance).status_code == 200
    return instance


def test_an_unchanged_poll_is_one_round_trip_and_no_query_on_redis(
    owner_client, warm, redis_round_trips, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = _poll(owner_client, warm, warm.poll_version)

    assert response.status_code == 204
    assert len(redis_round_trips) == 1
    assert b"MGET" in b"".join(redis_round_trips[0])


def test_a_session_the_cache_lost_is_read_from_the_database_once(
    owner_client, warm, django_assert_num_queries
):
    from django.core.cache import cache

    cache.delete(owner_client.session.cache_key)

    with django_assert_num_queries(1):
        assert _poll(owner_client, warm, warm.poll_version).status_code == 204
    with django_assert_num_queries(0):
        assert _poll(owner_client, warm, warm.poll_version).status_code == 204


def test_a_new_code_is_shown_at_once_though_the_old_one_was_cached(
    owner_client, warm, django_assert_num_queries
):
    old_version, old_code = warm.poll_version, warm.qr_code
    assert _poll(owner_client, warm, old_version).status_code == 204

    services.engine_events_apply(
        [
            EngineEvent(
                kind="qr_updated", engine_ref=warm.engine_ref, qr_code="novo-codigo"
            )
        ]
    )
    warm.refresh_from_db()
    assert warm.qr_code == "novo-codigo" != old_code

    response = _poll(owner_client, warm, old_version)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"v={warm.poll_version}" in body
    assert f"v={old_version}" not in body
    # The new version is cached again: the next poll is cheap.
    with django_assert_num_queries(0):
        assert _poll(owner_client, warm, warm.poll_version).status_code == 204


def test_another_customer_gets_404_though_the_owners_entry_is_cached(warm, other):
    stranger = Client()
    stranger.force_login(other)

    assert _poll(stranger, warm, warm.poll_version).status_code == 404


def test_a_visitor_is_sent_to_login_though_the_owners_entry_is_cached(warm):
    visitor = Client()

    htmx = _poll(visitor, warm, warm.poll_version)
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"].startswith(reverse("account_login"))

    plain = visitor.get(
        reverse("instances:qr", args=[warm.pk]), {"v": warm.poll_version}
    )
    assert plain.status_code == 302
    assert plain.url.startswith(reverse("account_login"))


def test_a_session_from_before_a_password_change_gets_nothing_more(
    owner_client, owner, warm
):
    owner.set_password("outra-senha-5513")
    owner.save()
    # The page the customer opened after the change polls first.
    fresh = Client()
    fresh.force_login(owner)
    assert _poll(fresh, warm, warm.poll_version).status_code == 204

    response = _poll(owner_client, warm, warm.poll_version)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert SESSION_KEY not in owner_client.session


def test_the_cached_copy_of_a_session_lives_minutes_not_weeks(owner_client):
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"] != "plugmessage.cache.RedisCache":
        pytest.skip("the entry's time to live is read from Redis (REDIS_URL)")
    key = cache.make_key(owner_client.session.cache_key)

    assert 0 < cache._cache.get_client().ttl(key) <= CACHE_SECONDS


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port nobody listens on, as during an outage
    (inside the test: the suite clears the real cache after it)."""
    caches = {
        "default": {
            "BACKEND": "plugmessage.cache.RedisCache",
            "LOCATION": UNREACHABLE,
            "KEY_PREFIX": "plugmessage",
        }
    }
    with override_settings(CACHES=caches, SESSION_ENGINE="plugmessage.sessions"):
        yield


def test_with_redis_down_the_poll_falls_back_to_the_database(
    owner_client, instance, redis_down, django_assert_num_queries
):
    # The session, the user, the row: read from PostgreSQL (or SQLite).
    with django_assert_num_queries(3):
        response = _poll(owner_client, instance, instance.poll_version)
    assert response.status_code == 204

    page = _poll(owner_client, instance)
    assert page.status_code == 200
    assert '<svg class="qr"' in page.content.decode()


def test_with_redis_down_a_customer_logs_in_and_out(client, owner, redis_down):
    response = client.post(
        reverse("account_login"), {"login": owner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("instances:list")
    assert client.get(reverse("instances:list")).status_code == 200

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    listing = client.get(reverse("instances:list"))
    assert listing.status_code == 302
    assert listing.url.startswith(reverse("account_login"))


def test_a_login_during_an_outage_survives_redis_coming_back(client, owner):
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "plugmessage.cache.RedisCache",
                "LOCATION": UNREACHABLE,
            }
        }
    ):
        client.post(
            reverse("account_login"), {"login": owner.email, "password": PASSWORD}
        )

    assert client.get(reverse("instances:list")).status_code == 200


def test_without_the_early_answer_the_view_answers_the_same(owner_client, warm, other):
    """instances.middleware.QrPollMiddleware only makes the answer cheaper:
    taken out of the stack, the view gives the same answers."""
    without = [
        m for m in settings.MIDDLEWARE if m != "instances.middleware.QrPollMiddleware"
    ]
    assert len(without) == len(settings.MIDDLEWARE) - 1
    with override_settings(MIDDLEWARE=without):
        assert _poll(owner_client, warm, warm.poll_version).status_code == 204
        assert _poll(owner_client, warm).status_code == 200
        other_client = Client()
        other_client.force_login(other)
        assert _poll(other_client, warm, warm.poll_version).status_code == 404


def test_the_early_answer_leaves_other_requests_to_the_stack(
    owner_client, warm, redis_round_trips
):
    """A POST to the poll's address, or a page beside it, is not answered
    early: it costs no early cache read and gets the view's answer."""
    url = reverse("instances:qr", args=[warm.pk])
    assert owner_client.post(f"{url}?v={warm.poll_version}").status_code == 405
    assert not any(b"MGET" in b"".join(sent) for sent in redis_round_trips)
