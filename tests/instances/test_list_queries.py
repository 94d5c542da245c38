import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from instances.models import Instance

pytestmark = pytest.mark.django_db


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("instances:list"))
    assert response.status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_10_and_1000_instances(owner_client, owner):
    owner_client.get(reverse("instances:list"))  # warm the session cache
    Instance.objects.bulk_create(
        [
            Instance(owner=owner, name=f"N{n}", trial_ends_at=owner.date_joined)
            for n in range(10)
        ]
    )
    with_ten = _queries_for_list(owner_client)
    Instance.objects.bulk_create(
        [
            Instance(owner=owner, name=f"M{n}", trial_ends_at=owner.date_joined)
            for n in range(990)
        ]
    )
    with_thousand = _queries_for_list(owner_client)

    assert with_ten == with_thousand <= 3
    assert Instance.objects.filter(owner=owner).count() == 1000
