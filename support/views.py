import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from instances import selectors as instance_selectors
from support import help as help_questions
from support import selectors, services
from support.forms import CustomerSuccessForm, ReplyForm, TicketForm
from support.models import Ticket, TicketAttachment, TicketStatus

FILES_AGAIN = _(
    "Nada foi enviado. Seu texto foi mantido; escolha os arquivos de novo, se quiser."
)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _get_ticket_for_user(request: HttpRequest, ticket_id) -> Ticket:
    ticket = selectors.ticket_for_user(request.user, ticket_id)
    if ticket is None:
        raise Http404
    return ticket


@login_required
@require_GET
def support_home(request: HttpRequest) -> HttpResponse:
    """ "Suporte": the customer's tickets and the ways to get help."""
    return render(
        request,
        "support/home.html",
        {
            "tickets": selectors.tickets_for_user(request.user)[:100],
            "support_email": settings.SUPPORT_EMAIL,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if instance_id := _uuid_or_none(request.GET.get("instancia")):
        instance = instance_selectors.instance_for_user(request.user, instance_id)
        if instance is not None:
            initial["instance"] = instance
    form = TicketForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(
                account=request.user,
                category=form.cleaned_data["category"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                instance=form.cleaned_data["instance"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form.add_error("attachments", error)
            messages.error(request, FILES_AGAIN)
        else:
            messages.success(
                request,
                _("Chamado #%(n)d aberto. Respondemos por aqui e avisamos por e-mail.")
                % {"n": ticket.pk},
            )
            return redirect("support:ticket", ticket.pk)
    return render(request, "support/ticket_form.html", {"form": form})


@require_GET
def ticket_detail(request: HttpRequest, ticket_id) -> HttpResponse:
    if not request.user.is_authenticated:
        login = f"{reverse(settings.LOGIN_URL)}?next={request.path}"
        # The thread's refresh would swap the login page into the conversation.
        return HttpResponseClientRedirect(login) if request.htmx else redirect(login)
    ticket = _get_ticket_for_user(request, ticket_id)
    template = "support/ticket_detail.html"
    if request.htmx:
        template += "#thread"
    return render(request, template, {"ticket": ticket, "form": ReplyForm()})


@login_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id) -> HttpResponse:
    ticket = _get_ticket_for_user(request, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form.add_error("attachments", error)
            messages.error(request, FILES_AGAIN)
        else:
            messages.success(request, _("Resposta enviada."))
            return redirect("support:ticket", ticket.pk)
    return render(
        request, "support/ticket_detail.html", {"ticket": ticket, "form": form}
    )


@login_required
@require_POST
def ticket_close(request: HttpRequest, ticket_id) -> HttpResponse:
    ticket = _get_ticket_for_user(request, ticket_id)
    if ticket.status != TicketStatus.RESOLVED:
        services.ticket_close(ticket=ticket, account=request.user)
        messages.success(
            request, _("Chamado encerrado. Se precisar, responda para reabri-lo.")
        )
    return redirect("support:ticket", ticket.pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, ticket_id, attachment_id) -> HttpResponse:
    attachment = selectors.attachment_for_user(request.user, ticket_id, attachment_id)
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


def attachment_response(attachment: TicketAttachment) -> FileResponse:
    """A ticket's file as a download of the type read from its content, never
    rendered by the browser (customers' page and the admin alike)."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def customer_success(request: HttpRequest) -> HttpResponse:
    """ "Falar com Customer Success": becomes a Comercial ticket."""
    form = CustomerSuccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ticket = services.customer_success_request(
            account=request.user, **form.cleaned_data
        )
        messages.success(
            request,
            _(
                "Recebemos seu pedido. Uma pessoa do time de Customer Success entra em "
                "contato em até 1 dia útil, no horário que você escolheu."
            ),
        )
        return redirect("support:ticket", ticket.pk)
    return render(request, "support/customer_success.html", {"form": form})


@login_required
@require_GET
def help_centre(request: HttpRequest) -> HttpResponse:
    """ "Central de ajuda": filtered as the customer types (htmx), or on
    submit without JavaScript."""
    query = request.GET.get("q", "").strip()
    template = "support/help.html"
    if request.htmx:
        template += "#results"
    return render(
        request,
        template,
        {"query": query, "questions": help_questions.questions_search(query)},
    )


@login_required
@require_GET
def best_practices(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "support/best_practices.html",
        {"checklists": selectors.practices_for_user(request.user)},
    )
