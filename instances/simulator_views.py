"""The simulated phone: the page a QR code of the simulator points to, where a
person "scans" it by choosing a number, and the page to type a pairing code.
Public (a real phone on the same network is not logged in); routed only while
the simulator is the engine."""

import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from instances import services
from instances.engines import engine_get
from instances.engines.simulator import SimulatorEngine, SimulatorRefused
from instances.forms import SimulatedPairingForm, SimulatedPhoneForm
from instances.models import Instance, InstanceState


def _simulator() -> SimulatorEngine:
    engine = engine_get()
    if not isinstance(engine, SimulatorEngine):
        raise Http404
    return engine


def _example_number() -> str:
    return f"+55 11 9{secrets.randbelow(9000) + 1000}-{secrets.randbelow(9000) + 1000}"


def _outcome(engine_ref: str) -> dict:
    instance = Instance.objects.get(engine_ref=engine_ref)
    if instance.state == InstanceState.CONNECTED:
        return {"connected": True}
    return {"refused": instance.connect_error or "A conexão não foi aceita."}


@require_http_methods(["GET", "POST"])
def simulator_scan(request: HttpRequest, code: str) -> HttpResponse:
    engine = _simulator()
    form = SimulatedPhoneForm(
        request.POST or None, initial={"phone_number": _example_number()}
    )
    context = {"form": form, "expired": engine.phone_session_for_code(code) is None}
    if request.method == "POST" and not context["expired"] and form.is_valid():
        try:
            event = engine.phone_scan(
                code, form.cleaned_data["phone_number"].lstrip("+")
            )
        except SimulatorRefused:
            context["expired"] = True
        else:
            services.engine_events_apply([event])
            context.update(_outcome(event.engine_ref))
    return render(request, "instances/simulator/scan.html", context)


@require_http_methods(["GET", "POST"])
def simulator_pairing(request: HttpRequest) -> HttpResponse:
    engine = _simulator()
    form = SimulatedPairingForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            event = engine.phone_enter_pairing_code(
                form.cleaned_data["pairing_code"],
                form.cleaned_data["phone_number"].lstrip("+"),
            )
        except SimulatorRefused as error:
            form.add_error("pairing_code", str(error))
        else:
            services.engine_events_apply([event])
            context.update(_outcome(event.engine_ref))
    return render(request, "instances/simulator/pairing.html", context)
