"""The simulated phone: the page a QR code of the simulator points to, where a
person "scans" it by choosing a number, and the page to type a pairing code.
Public (a real phone on the same network is not logged in); answered only
while the simulator is the engine."""

import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from instances import services
from instances.engines import engine_get
from instances.engines.base import EngineRefused
from instances.forms import SimulatedPairingForm, SimulatedPhoneForm


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
