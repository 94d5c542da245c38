import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import SUPPORT_GROUP_NAME, User
from accounts.services import DEMO_LOGINS

pytestmark = pytest.mark.django_db


def test_it_creates_verified_demo_logins_and_prints_them(capsys):
    call_command("demo_setup")
    call_command("demo_setup")  # a second run changes nothing

    out = capsys.readouterr().out
    assert User.objects.count() == len(DEMO_LOGINS)
    for login in DEMO_LOGINS:
        user = User.objects.get(email=login["email"])
        assert user.check_password(login["password"])
        assert EmailAddress.objects.get(user=user).verified
        assert login["email"] in out and login["password"] in out
    support = User.objects.get(email="suporte@plugmessage.local")
    assert support.is_staff and not support.is_superuser
    assert support.groups.filter(name=SUPPORT_GROUP_NAME).exists()
    customer = User.objects.get(email="demo@plugmessage.local")
    assert not customer.is_staff
