import pytest
from django.core.cache import cache

from accounts.services import support_group_sync
from instances import messaging
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _isolated(settings):
    # No collectstatic in tests: plain storage instead of the manifest one.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # allauth's rate limits count in the cache; each test starts from zero.
    cache.clear()
    # Nor does a dispatch a previous test asked for (perhaps of a recorded,
    # never published task) cover this test's sends.
    messaging._dispatch_covers_until = 0.0
    yield
    cache.clear()
    messaging._dispatch_covers_until = 0.0


@pytest.fixture
def owner(db):
    return UserFactory(email="dona@exemplo.com.br", full_name="Ana Dona")


@pytest.fixture
def other(db):
    return UserFactory(email="outro@exemplo.com.br", full_name="Otávio Outro")


@pytest.fixture
def staff(db):
    user = UserFactory(email="equipe@plugmessage.com.br", is_staff=True)
    user.groups.add(support_group_sync())
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
