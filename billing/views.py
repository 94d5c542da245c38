import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import dates, selectors, services
from billing.boleto import i25_svg
from billing.forms import BillingProfileForm
from billing.models import Invoice
from billing.pdf import invoice_pdf
from billing.providers import provider_get
from billing.providers.base import NotificationRefused, ProviderError
from billing.providers.simulated import SimulatedProvider
from billing.slip import boleto_slip_for
from instances import selectors as instance_selectors
from instances.models import Instance
from instances.qr import qr_svg

logger = logging.getLogger(__name__)


def _get_instance_for_user(request: HttpRequest, instance_id) -> Instance:
    instance = instance_selectors.instance_for_user(request.user, instance_id)
    if instance is None:
        raise Http404
    return instance


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("proximo") or request.GET.get("proximo") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def billing_profile_edit(request: HttpRequest) -> HttpResponse:
    """ "Dados de cobrança" under Minha conta."""
    profile = selectors.billing_profile_for(request.user)
    form = BillingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.billing_profile_save(account=request.user, values=form.cleaned_data)
        messages.success(request, _("Dados de cobrança salvos."))
        return redirect(_next_url(request, "billing:profile"))
    return render(
        request,
        "billing/profile.html",
        {"form": form, "next": _next_url(request, "")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, instance_id) -> HttpResponse:
    """ "Assinar": the price, the postpaid rule and the billing data (asked
    here the first time), then one confirmation."""
    instance = _get_instance_for_user(request, instance_id)
    if instance.subscribed_since is not None:
        messages.info(request, _("Esta instância já está assinada."))
        return redirect("instances:detail", instance.pk)
    profile = selectors.billing_profile_for(request.user)
    form = None if profile else BillingProfileForm(request.POST or None)
    if request.method == "POST" and (form is None or form.is_valid()):
        if form is not None:
            services.billing_profile_save(
                account=request.user, values=form.cleaned_data
            )
        try:
            services.subscription_start(instance=instance, actor=request.user)
        except services.BillingError as error:
            messages.error(request, str(error))
            if instance_selectors.instance_for_user(request.user, instance.pk) is None:
                return redirect("instances:list")  # deleted meanwhile
            return redirect("instances:detail", instance.pk)
        messages.success(
            request,
            _("Instância “%(name)s” assinada. Obrigado!") % {"name": instance.name},
        )
        return redirect("instances:detail", instance.pk)
    return render(
        request,
        "billing/subscribe.html",
        {
            "instance": instance,
            "plan": services.plan_current(),
            "profile": profile,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: HttpRequest, instance_id) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if instance.subscribed_since is None:
        messages.info(request, _("Esta instância não está assinada."))
        return redirect("instances:detail", instance.pk)
    if request.method == "GET":
        return render(request, "billing/cancel.html", {"instance": instance})
    try:
        services.subscription_cancel(instance=instance, actor=request.user)
    except services.BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Assinatura da instância “%(name)s” cancelada.")
            % {"name": instance.name},
        )
    return redirect("instances:detail", instance.pk)


def _get_invoice_for_user(request: HttpRequest, invoice_id) -> Invoice:
    invoice = selectors.invoice_for_user(request.user, invoice_id)
    if invoice is None:
        raise Http404
    return invoice


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """ "Boletos": what this month has accrued so far, the open invoices with
    their boleto and PIX, and the payment history."""
    today = dates.today()
    plan = services.plan_current()
    preview = services.invoice_preview(account=request.user, today=today, plan=plan)
    return render(
        request,
        "billing/invoice_list.html",
        {
            "open_invoices": selectors.invoices_open_for_user(request.user),
            "payments": selectors.payments_for_user(request.user)[:50],
            "preview": preview,
            "preview_month": today,
            "today": today,
            "plan": plan,
            "simulate_payments": settings.DEBUG
            and provider_get().name == SimulatedProvider.name,
        },
    )


@login_required
@require_GET
def boleto(request: HttpRequest, invoice_id) -> HttpResponse:
    """The invoice and its boleto (recibo do pagador and ficha de
    compensação), ready to print (print CSS), with the PIX QR."""
    invoice = _get_invoice_for_user(request, invoice_id)
    charge = selectors.charge_to_show(invoice)
    slip = boleto_slip_for(invoice, charge)
    return render(
        request,
        "billing/boleto.html",
        {
            "invoice": invoice,
            "charge": charge,
            "slip": slip,
            "barcode_svg": mark_safe(i25_svg(slip.barcode))  # noqa: S308
            if slip
            else "",
            "pix_qr": qr_svg(charge.pix_payload) if charge else "",
            "today": dates.today(),
        },
    )


@login_required
@require_GET
def boleto_pdf(request: HttpRequest, invoice_id) -> HttpResponse:
    invoice = _get_invoice_for_user(request, invoice_id)
    charge = selectors.charge_to_show(invoice)
    response = HttpResponse(
        invoice_pdf(invoice, charge), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="plugmessage-fatura-{invoice.period:%Y-%m}.pdf"'
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def invoice_reissue(request: HttpRequest, invoice_id) -> HttpResponse:
    """ "Gerar 2ª via" of an overdue invoice, after a confirmation that shows
    the new amount."""
    invoice = _get_invoice_for_user(request, invoice_id)
    today = dates.today()
    if request.method == "POST":
        try:
            services.invoice_reissue(invoice=invoice, today=today, actor=request.user)
        except services.BillingError as error:
            messages.error(request, str(error))
            return redirect("billing:invoices")
        except ProviderError as error:
            logger.warning("2ª via of invoice %s refused: %s", invoice.pk, error)
            messages.error(request, error.customer_message)
            return redirect("billing:invoices")
        messages.success(request, _("2ª via gerada. O boleto anterior foi cancelado."))
        return redirect("billing:boleto", invoice.pk)
    return render(
        request,
        "billing/reissue.html",
        {
            "invoice": invoice,
            "quote": services.invoice_reissue_quote(invoice=invoice, today=today),
            "plan": services.plan_current(),
        },
    )


@login_required
@require_POST
def payment_simulate(request: HttpRequest, invoice_id) -> HttpResponse:
    """ "Simular pagamento" (DEBUG with the simulated provider only): records
    the payment of the active charge as the provider's notification would."""
    if not settings.DEBUG or provider_get().name != SimulatedProvider.name:
        raise Http404
    invoice = _get_invoice_for_user(request, invoice_id)
    charge = selectors.charge_active(invoice)
    if charge is None:
        raise Http404
    try:
        notice = provider_get().payment_simulate(
            charge.provider_ref,
            amount_cents=charge.amount_cents,
            method=request.POST.get("method", "pix"),
            notice_ref=f"sim-{charge.provider_ref}",
        )
    except ProviderError as error:
        messages.error(request, error.customer_message)
        return redirect("billing:invoices")
    services.payment_record(notice=notice, provider_name=charge.provider)
    messages.success(request, _("Pagamento simulado registrado."))
    return redirect("billing:invoices")


@csrf_exempt
@require_POST
def payment_webhook(request: HttpRequest) -> HttpResponse:
    """The payment provider's notifications. A wrong token → 401; a charge we
    never issued → 404; nothing is recorded for either. Idempotent."""
    provider = provider_get()
    try:
        notice = provider.notification_parse(request.headers, request.body)
    except NotificationRefused as error:
        return JsonResponse({"erro": str(error)}, status=401)
    if notice is None:
        return JsonResponse({"ok": True, "ignorado": True})
    try:
        payment = services.payment_record(notice=notice, provider_name=provider.name)
    except services.PaymentUnknown:
        return JsonResponse({"erro": "cobrança desconhecida"}, status=404)
    return JsonResponse({"ok": True, "pagamento": payment.pk})
