"""Rule 9: a webhook URL never reaches loopback, private, link-local,
carrier-grade NAT, multicast, reserved or metadata addresses."""

import ipaddress

import pytest
from django.urls import reverse

from webhooks import sender, services
from webhooks.models import EventKind

pytestmark = pytest.mark.django_db

FORBIDDEN = [
    "127.0.0.1",
    "127.1.2.3",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.10",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
]


@pytest.fixture
def strict(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    settings.DEBUG = False


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses_are_recognised(address):
    assert sender.address_is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "200.147.67.142", "2606:4700:4700::1111"]
)
def test_public_addresses_are_allowed(address):
    assert not sender.address_is_forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://2130706433/x",  # 127.0.0.1 in decimal
        "https://0x7f000001/x",  # in hex
        "https://0177.0.0.1/x",  # in octal
        "https://0x7f.1/x",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://localhost/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/x",
    ],
)
def test_internal_urls_are_refused_at_save(strict, url):
    with pytest.raises(sender.UnsafeURL, match="rede interna"):
        sender.url_check(url)


def test_plain_http_is_refused_outside_development(strict, monkeypatch):
    monkeypatch.setattr(
        sender, "_resolve", lambda host, port: [ipaddress.ip_address("200.147.67.142")]
    )
    with pytest.raises(sender.UnsafeURL, match="https://"):
        sender.url_check("http://cliente.com.br/webhooks")
    assert sender.url_check("https://cliente.com.br/webhooks")


@pytest.mark.parametrize(
    "url", ["ftp://x.com/a", "https://", "nada", "https://user:senha@x.com/"]
)
def test_malformed_urls_are_refused(strict, url):
    with pytest.raises(sender.UnsafeURL):
        sender.url_check(url)


def test_a_name_that_resolves_inside_only_at_send_time_is_not_reached(
    strict, instance, monkeypatch, receiver
):
    public = [ipaddress.ip_address("200.147.67.142")]
    monkeypatch.setattr(sender, "_resolve", lambda host, port: public)
    services.webhook_endpoints_save(
        instance=instance,
        values={
            EventKind.MESSAGE_RECEIVED.value: ("https://cliente.com.br/hook", True)
        },
    )
    # Between save and send, the name starts answering with loopback.
    monkeypatch.setattr(
        sender, "_resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")]
    )

    result = sender.post("https://cliente.com.br/hook", b"{}", {})

    assert result.status_code is None
    assert "rede interna" in result.error
    assert receiver.received == []


def test_one_bad_address_among_several_refuses_the_name(strict, monkeypatch):
    monkeypatch.setattr(
        sender,
        "_resolve",
        lambda host, port: [
            ipaddress.ip_address("200.147.67.142"),
            ipaddress.ip_address("10.0.0.1"),
        ],
    )
    with pytest.raises(sender.UnsafeURL):
        sender.url_check("https://dupla.com.br/")


def test_the_local_receiver_is_refused_while_loopback_is_not_allowed(strict, receiver):
    result = sender.post(receiver.url, b"{}", {})

    assert result.status_code is None
    assert receiver.received == []


def test_the_request_goes_to_the_checked_address_with_the_original_host(
    monkeypatch, receiver, settings
):
    settings.DEBUG = True  # plain http to a name: development only
    port = receiver.server.server_address[1]
    monkeypatch.setattr(
        sender, "_resolve", lambda host, p: [ipaddress.ip_address("127.0.0.1")]
    )

    result = sender.post(f"http://meu-sistema.test:{port}/hook", b"{}", {})

    assert result.status_code == 200
    assert receiver.received[0].headers["host"] == f"meu-sistema.test:{port}"


def test_the_tab_refuses_an_internal_url_and_keeps_what_was_typed(
    strict, owner_client, instance
):
    url = reverse("webhooks:edit", args=[instance.pk])
    response = owner_client.post(
        url,
        {
            "message.received-url": "https://169.254.169.254/latest",
            "message.received-enabled": "on",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "rede interna" in body
    assert 'value="https://169.254.169.254/latest"' in body
    assert not instance.webhook_endpoints.exclude(url="").exists()


def test_plain_http_to_a_public_name_is_refused_even_with_loopback_allowed(
    settings, monkeypatch
):
    settings.DEBUG = False
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    monkeypatch.setattr(
        sender, "_resolve", lambda host, port: [ipaddress.ip_address("200.147.67.142")]
    )
    with pytest.raises(sender.UnsafeURL, match="https://"):
        sender.url_check("http://cliente.com.br/hook")


def test_ipv6_site_local_is_forbidden():
    assert sender.address_is_forbidden(ipaddress.ip_address("fec0::1"))


def test_a_non_ascii_host_is_sent_in_its_ascii_form(monkeypatch, receiver, settings):
    settings.DEBUG = True
    port = receiver.server.server_address[1]
    monkeypatch.setattr(
        sender, "_resolve", lambda host, p: [ipaddress.ip_address("127.0.0.1")]
    )

    result = sender.post(f"http://ação.test:{port}/hook", b"{}", {})

    assert result.status_code == 200
    assert receiver.received[0].headers["host"] == f"xn--ao-siap.test:{port}"


def test_when_an_address_refuses_the_next_checked_one_is_tried(
    monkeypatch, receiver, settings
):
    settings.DEBUG = True
    port = receiver.server.server_address[1]
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
    monkeypatch.setattr(
        sender,
        "_resolve",
        lambda host, p: [
            ipaddress.ip_address("127.0.0.2"),
            ipaddress.ip_address("127.0.0.1"),
        ],
    )

    result = sender.post(f"http://dois-enderecos.test:{port}/hook", b"{}", {})

    assert result.status_code == 200
    assert len(receiver.received) == 1
