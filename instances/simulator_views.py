"""The simulated phone, answered only while the simulator is the engine.

The page a QR code of the simulator points to, where a person "scans" it by
choosing a number, and the page to type a pairing code, are public (a real
phone on the same network is not logged in). The conversation page, where
the owner plays the instance's contacts, is the owner's alone."""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from instances import selectors, services
from instances.engines import engine_get
from instances.engines.base import EngineRefused
from instances.forms import (
    SIMULATED_SEND_FORMS,
    SimulatedContactForm,
    SimulatedPairingForm,
    SimulatedPhoneForm,
    SimulatedSendForm,
    simulated_send_forms,
)
from instances.models import Instance
from instances.phones import phone_display

# Who the person plays until they choose: any number but the absent ones.
DEFAULT_CONTACT = "+5511912345678"


def _require_simulator():
    engine = engine_get()
    if engine.name != "simulator":
        raise Http404
    return engine


def _example_number() -> str:
    return f"+55 11 9{secrets.randbelow(9000) + 1000}-{secrets.randbelow(9000) + 1000}"


@require_http_methods(["GET", "POST"])
def simulator_scan(request: HttpRequest, code: str) -> HttpResponse:
    engine = _require_simulator()
    form = SimulatedPhoneForm(
        request.POST or None, initial={"phone_number": _example_number()}
    )
    context = {"form": form, "expired": engine.phone_session_for_code(code) is None}
    if request.method == "POST" and not context["expired"] and form.is_valid():
        context.update(
            services.simulated_phone_scan(
                code=code, phone_number=form.cleaned_data["phone_number"]
            )
        )
    return render(request, "instances/simulator/scan.html", context)


@require_http_methods(["GET", "POST"])
def simulator_pairing(request: HttpRequest) -> HttpResponse:
    _require_simulator()
    form = SimulatedPairingForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            context.update(
                services.simulated_phone_pairing(
                    pairing_code=form.cleaned_data["pairing_code"],
                    phone_number=form.cleaned_data["phone_number"],
                )
            )
        except EngineRefused as error:
            form.add_error("pairing_code", str(error))
    return render(request, "instances/simulator/pairing.html", context)


# The conversation (the instance's owner only).


def _get_instance_for_user(request: HttpRequest, instance_id) -> Instance:
    instance = selectors.instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


def _chosen_contact(
    request: HttpRequest, contacts: list[str], sending: SimulatedSendForm | None
) -> tuple[str, str, SimulatedContactForm]:
    """The contact (E.164) and name the person plays: those of the message
    being sent, else those in the address, else the latest chat's (or an
    example number); with the form to choose another."""
    chosen = sending.contact_given() if sending is not None else None
    if chosen is None and "contato" in request.GET:
        chooser = SimulatedContactForm(request.GET)
        if not chooser.is_valid():
            return contacts[0] if contacts else DEFAULT_CONTACT, "", chooser
        chosen = chooser.cleaned_data["contato"], chooser.cleaned_data["nome"]
    contact, name = chosen or (contacts[0] if contacts else DEFAULT_CONTACT, "")
    chooser = SimulatedContactForm(
        initial={"contato": phone_display(contact), "nome": name}
    )
    return contact, name, chooser


def _phone_page(
    request: HttpRequest, instance: Instance, sending: SimulatedSendForm | None = None
) -> HttpResponse:
    """The conversation page, or (polled by htmx) its conversation alone: 204
    while nothing changed, 286 once the instance is no longer connected."""
    contacts = selectors.simulated_contacts(instance)
    contact, sender_name, chooser = _chosen_contact(request, contacts, sending)
    conversation = selectors.simulated_conversation(instance, contact=contact)
    polled = request.htmx and sending is None
    if (
        polled
        and instance.is_connected
        and request.GET.get("v") == conversation.version
    ):
        return HttpResponse(status=204)
    forms = simulated_send_forms(
        instance=instance, contact=contact, sender_name=sender_name
    )
    if sending is not None:
        forms[sending.kind] = sending
    response = render(
        request,
        "instances/simulator/phone.html#conversation"
        if polled
        else "instances/simulator/phone.html",
        {
            "instance": instance,
            "conversation": conversation,
            "sender_name": sender_name,
            "chooser": chooser,
            "contacts": contacts,
            "forms": forms,
            "sending_kind": sending.kind if sending is not None else "",
            "poll_query": urlencode(
                {"contato": contact, "nome": sender_name, "v": conversation.version}
            ),
            "absent_numbers": [
                phone_display("+" + digits)
                for digits in settings.SIMULATOR_ABSENT_NUMBERS
            ],
        },
    )
    if polled and not instance.is_connected:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_GET
def simulator_phone(request: HttpRequest, instance_id) -> HttpResponse:
    _require_simulator()
    instance = _get_instance_for_user(request, instance_id)
    return _phone_page(request, instance)


@login_required
@require_POST
def simulator_phone_send(request: HttpRequest, instance_id, kind: str) -> HttpResponse:
    _require_simulator()
    instance = _get_instance_for_user(request, instance_id)
    form_class = SIMULATED_SEND_FORMS.get(kind)
    if form_class is None:
        raise Http404
    form = form_class(request.POST, request.FILES, instance=instance)
    if not form.is_valid():
        return _phone_page(request, instance, sending=form)
    sent = form.message()
    try:
        received = services.simulated_phone_send(instance=instance, **sent)
    except EngineRefused as error:
        messages.error(request, str(error))
    else:
        _report(request, received)
    query = urlencode({"contato": sent["contact"], "nome": sent["sender_name"]})
    return redirect(
        f"{reverse('instances:simulator_phone', args=[instance.pk])}?{query}"
    )


def _report(request: HttpRequest, received) -> None:
    if received is None:
        messages.warning(
            request,
            _(
                "A instância descartou a mensagem: ela não pode receber agora (teste grátis encerrado?)."
            ),
        )
    elif received.content.get("download_error"):
        messages.warning(
            request,
            _("Mensagem entregue, mas a PlugMessage não aceitou o arquivo: %(why)s")
            % {"why": received.content["download_error"]},
        )
    else:
        messages.success(request, _("Mensagem enviada à instância."))
