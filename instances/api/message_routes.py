"""Sending messages of every kind, following them, and managing the queue.

The request bodies are Z-API's on both route shapes (field names included),
so a client moves by changing the host; the answers differ: Z-API's
`{zaapId, messageId, id}` with the token in the path, PlugMessage's message
(202) with the Bearer header.

`messageId` in an answer is the id PlugMessage assigns when it accepts the
message, in WhatsApp's own format; the simulator sends the message under that
very id, and every webhook about the message (DeliveryCallback,
MessageStatusCallback, message.sent, message.status) carries it, so a client
can match them to the answer. `zaapId` is the message's id in the queue.
"""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Schema, Status
from pydantic import Field, StrictFloat, StrictInt, StrictStr

from instances import messaging
from instances.api.core import ApiError, PhoneField, Shape, action, invalid_phone
from instances.api.instance_routes import engine_call, must_be_connected
from instances.messaging import Draft
from instances.models import Instance, Message, MessageKind
from instances.phones import phone_to_e164

TAG = "Mensagens"
QUEUE_TAG = "Fila"


class SendOptions(Schema):
    """Options every send takes."""

    phone: PhoneField
    messageId: str | None = Field(  # noqa: N815
        None, description="Responder a esta mensagem (id do WhatsApp)."
    )
    delayMessage: StrictFloat | None = Field(  # noqa: N815
        None, ge=0, le=15, description="Esperar de 1 a 15 s antes de enviar."
    )
    delayTyping: StrictFloat | None = Field(  # noqa: N815
        None, ge=0, le=15, description="Mostrar “digitando...” de 1 a 15 s antes."
    )


class SendTextIn(SendOptions):
    message: str | None = None
    text: str | None = Field(None, description="Outro nome de `message`.")
    editMessageId: str | None = None  # noqa: N815


class SendImageIn(SendOptions):
    image: str = Field(..., description="URL pública ou data URI base64.")
    caption: str = ""
    viewOnce: bool = False  # noqa: N815


class SendAudioIn(SendOptions):
    audio: str = Field(..., description="URL pública ou data URI base64.")
    viewOnce: bool = False  # noqa: N815
    ptt: bool = Field(True, description="Enviar como mensagem de voz (gravada).")
    waveform: bool = True


class SendVideoIn(SendOptions):
    video: str = Field(..., description="URL pública ou data URI base64.")
    caption: str = ""
    viewOnce: bool = False  # noqa: N815


class SendDocumentIn(SendOptions):
    document: str = Field(..., description="URL pública ou data URI base64.")
    fileName: str = ""  # noqa: N815
    caption: str = ""


class SendLinkIn(SendOptions):
    message: str = Field(..., description="O texto, terminando com o link.")
    image: str = Field("", description="Imagem de prévia: URL ou data URI.")
    linkUrl: str  # noqa: N815
    title: str = ""
    linkDescription: str = ""  # noqa: N815
    linkType: str | None = None  # noqa: N815


class SendLocationIn(SendOptions):
    title: str = ""
    address: str = ""
    latitude: StrictStr | StrictFloat
    longitude: StrictStr | StrictFloat


class SendContactIn(SendOptions):
    contactName: str  # noqa: N815
    contactPhone: StrictStr | StrictInt  # noqa: N815
    contactBusinessDescription: str = ""  # noqa: N815


class SendReactionIn(SendOptions):
    reaction: str = Field(..., description="Um emoji.")
    messageId: str = Field(  # noqa: N815
        ..., description="A mensagem que recebe a reação."
    )


class SendStickerIn(SendOptions):
    sticker: str = Field(..., description="URL pública ou data URI base64 (WebP).")
    stickerAuthor: str = ""  # noqa: N815


class MessageOut(Schema):
    id: UUID = Field(description="O id da mensagem na PlugMessage.")
    message_id: str = Field(description="O id da mensagem no WhatsApp.")
    to: str = Field(description="O número de destino, só dígitos.")
    kind: str = Field(
        description="text, image, audio, video, document, link, location, contact, reaction ou sticker."
    )
    status: str = Field(description="queued, sent, delivered, read ou failed.")
    error: str | None = Field(description="Por que falhou (status failed).")
    created_at: datetime
    updated_at: datetime


class SentOut(Schema):
    zaapId: str = Field(description="O id da mensagem na fila da PlugMessage.")  # noqa: N815
    messageId: str = Field(description="O id da mensagem no WhatsApp.")  # noqa: N815
    id: str = Field(description="O mesmo que messageId, como na Z-API.")


def message_native(message: Message) -> dict:
    return {
        "id": message.pk,
        "message_id": message.message_id,
        "to": message.to,
        "kind": message.kind,
        "status": message.status,
        "error": message.error or None,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


def accepted_native(message: Message) -> Status:
    return Status(202, message_native(message))


def accepted_zapi(message: Message) -> dict:
    return {
        "zaapId": message.zaap_id,
        "messageId": message.message_id,
        "id": message.message_id,
    }


SENT = {
    "native": Shape(("POST",), {202: MessageOut}, accepted_native),
    "zapi": Shape(("POST",), {200: SentOut}, accepted_zapi),
    # Finding the instance also tells whether this number is excluded.
    "recipient": lambda params: params["body"].phone,
}


def _seconds(value: float | None) -> int:
    return round(value) if value else 0


def _send(instance: Instance, body: SendOptions, draft: Draft) -> Message:
    draft.reply_to = draft.reply_to or (body.messageId or "")
    draft.delay_message = _seconds(body.delayMessage)
    draft.delay_typing = _seconds(body.delayTyping)
    try:
        return messaging.message_accept(
            instance=instance, phone=str(body.phone), draft=draft
        )
    except messaging.SendRefused as refused:
        raise ApiError(
            refused.status, refused.code, refused.message, refused.retry_after
        ) from refused


@action("/send-text", summary="Enviar texto", tag=TAG, **SENT)
def send_text(request: HttpRequest, instance: Instance, body: SendTextIn):
    """Envia uma mensagem de texto; com `messageId`, em resposta a ela."""
    if body.editMessageId:
        raise ApiError(
            422,
            "edit_not_supported",
            _("A edição de mensagens enviadas ainda não é oferecida."),
        )
    text = body.message if body.message is not None else (body.text or "")
    return _send(instance, body, Draft(text=text))


@action("/send-image", summary="Enviar imagem", tag=TAG, **SENT)
def send_image(request: HttpRequest, instance: Instance, body: SendImageIn):
    """Envia uma imagem (JPEG, PNG, WebP ou GIF, até 5 MB) com legenda opcional."""
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.IMAGE,
            text=body.caption,
            media=body.image,
            content={"view_once": body.viewOnce} if body.viewOnce else {},
        ),
    )


@action("/send-audio", summary="Enviar áudio", tag=TAG, **SENT)
def send_audio(request: HttpRequest, instance: Instance, body: SendAudioIn):
    """Envia um áudio (OGG/Opus, MP3, M4A, AAC ou AMR, até 16 MB), como
    mensagem de voz por padrão."""
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.AUDIO,
            media=body.audio,
            content={"ptt": body.ptt, "view_once": body.viewOnce},
        ),
    )


@action("/send-video", summary="Enviar vídeo", tag=TAG, **SENT)
def send_video(request: HttpRequest, instance: Instance, body: SendVideoIn):
    """Envia um vídeo (MP4 ou 3GP, até 16 MB) com legenda opcional."""
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.VIDEO,
            text=body.caption,
            media=body.video,
            content={"view_once": body.viewOnce} if body.viewOnce else {},
        ),
    )


@action("/send-document/{extension}", summary="Enviar documento", tag=TAG, **SENT)
def send_document(
    request: HttpRequest, instance: Instance, extension: str, body: SendDocumentIn
):
    """Envia um documento (até 16 MB); `extension` (pdf, docx, xlsx...) dá a
    extensão do nome do arquivo e precisa combinar com o conteúdo."""
    extension = extension.strip(".").lower()[:10]
    if not extension.isalnum():
        raise ApiError(422, "invalid_extension", _("Extensão de arquivo inválida."))
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.DOCUMENT,
            text=body.caption,
            media=body.document,
            file_name=body.fileName,
            extension=extension,
            content={"file_name": body.fileName[:200], "extension": extension},
        ),
    )


@action("/send-link", summary="Enviar link com prévia", tag=TAG, **SENT)
def send_link(request: HttpRequest, instance: Instance, body: SendLinkIn):
    """Envia um texto com link e sua prévia (título, descrição e imagem)."""
    if not body.linkUrl.startswith(("http://", "https://")):
        raise ApiError(
            422, "invalid_link", _("linkUrl deve começar com http:// ou https://.")
        )
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.LINK,
            text=body.message,
            media=body.image,
            content={
                "url": body.linkUrl,
                "title": body.title,
                "description": body.linkDescription,
            },
        ),
    )


def _coordinate(value: str | float, limit: float, name: str) -> float:
    try:
        number = float(str(value).replace(",", ".").strip())
    except ValueError:
        number = float("nan")
    if not -limit <= number <= limit:
        raise ApiError(
            422,
            "invalid_location",
            _("%(name)s deve ser um número entre -%(limit)d e %(limit)d.")
            % {"name": name, "limit": limit},
        )
    return number


@action("/send-location", summary="Enviar localização", tag=TAG, **SENT)
def send_location(request: HttpRequest, instance: Instance, body: SendLocationIn):
    """Envia um ponto no mapa, com nome e endereço."""
    content = {
        "latitude": _coordinate(body.latitude, 90, "latitude"),
        "longitude": _coordinate(body.longitude, 180, "longitude"),
        "title": body.title[:200],
        "address": body.address[:300],
    }
    return _send(instance, body, Draft(kind=MessageKind.LOCATION, content=content))


@action("/send-contact", summary="Enviar contato", tag=TAG, **SENT)
def send_contact(request: HttpRequest, instance: Instance, body: SendContactIn):
    """Envia um cartão de contato (nome e telefone)."""
    try:
        contact = phone_to_e164(str(body.contactPhone))
    except ValidationError as error:
        raise ApiError(
            422, "invalid_contact_phone", _("contactPhone não é um telefone válido.")
        ) from error
    if not body.contactName.strip():
        raise ApiError(
            422, "invalid_contact_name", _("Informe o nome do contato (contactName).")
        )
    content = {
        "name": body.contactName.strip()[:100],
        "phone": contact,
        "business_description": body.contactBusinessDescription[:200],
    }
    return _send(instance, body, Draft(kind=MessageKind.CONTACT, content=content))


@action("/send-reaction", summary="Reagir a uma mensagem", tag=TAG, **SENT)
def send_reaction(request: HttpRequest, instance: Instance, body: SendReactionIn):
    """Reage com um emoji à mensagem `messageId`."""
    emoji = body.reaction.strip()
    if not emoji or len(emoji) > 10:
        raise ApiError(422, "invalid_reaction", _("Informe um emoji em reaction."))
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.REACTION,
            content={"emoji": emoji},
            reply_to=body.messageId,
        ),
    )


@action("/send-sticker", summary="Enviar figurinha", tag=TAG, **SENT)
def send_sticker(request: HttpRequest, instance: Instance, body: SendStickerIn):
    """Envia uma figurinha (WebP ou PNG, até 1 MB)."""
    return _send(
        instance,
        body,
        Draft(
            kind=MessageKind.STICKER,
            media=body.sticker,
            content={"author": body.stickerAuthor[:100]} if body.stickerAuthor else {},
        ),
    )


# Following a message, and the queue.


@action(
    "/messages/{message_id}",
    summary="Status de uma mensagem",
    tag=TAG,
    native=Shape(("GET",), {200: MessageOut}, message_native),
    zapi=Shape(("GET",), {200: MessageOut}, message_native),
)
def message_status(request: HttpRequest, instance: Instance, message_id: str):
    """Uma mensagem enviada pela API, pelo `id` da resposta ou pelo
    `messageId`."""
    message = messaging.message_find(instance=instance, message_id=message_id)
    if message is None:
        raise ApiError(404, "message_not_found", _("Mensagem não encontrada."))
    return message


class ReadIn(Schema):
    phone: PhoneField
    messageId: str  # noqa: N815


def no_content(_result) -> Status:
    return Status(204, None)


@action(
    "/read-message",
    summary="Marcar como lida",
    tag=TAG,
    native=Shape(("POST",), {204: None}, no_content),
    zapi=Shape(("POST",), {204: None}, no_content),
)
def read_message(request: HttpRequest, instance: Instance, body: ReadIn):
    """Marca uma mensagem recebida como lida (os tiques azuis)."""
    must_be_connected(instance)
    _phone_check(str(body.phone))
    return engine_call(
        messaging.message_read,
        instance=instance,
        phone=str(body.phone),
        message_id=body.messageId,
    )


def _only_query(request: HttpRequest, *names: str) -> None:
    # An unknown query parameter is a mistake worth saying, not ignoring.
    unknown = sorted(set(request.GET) - set(names))
    if unknown:
        raise ApiError(
            422,
            "invalid_request",
            _("Parâmetro desconhecido: %(names)s.")
            % {"names": ", ".join(repr(n) for n in unknown)},
        )


def _phone_check(phone: str) -> None:
    try:
        phone_to_e164(phone)
    except ValidationError as error:
        raise invalid_phone() from error


class DeleteQuery(Schema):
    messageId: str = Field(description="O id da mensagem no WhatsApp.")  # noqa: N815
    phone: str = Field(description="O número da conversa.")
    owner: bool = Field(True, description="A mensagem foi enviada por você.")


@action(
    "/messages",
    summary="Apagar uma mensagem para todos",
    tag=TAG,
    native=Shape(("DELETE",), {204: None}, no_content),
    zapi=Shape(("DELETE",), {204: None}, no_content),
)
def message_delete(
    request: HttpRequest, instance: Instance, filters: Query[DeleteQuery]
):
    """Apaga para todos a mensagem `messageId` da conversa com `phone`;
    `owner=true` quando foi a instância que a enviou."""
    _only_query(request, "messageId", "phone", "owner")
    must_be_connected(instance)
    _phone_check(filters.phone)
    return engine_call(
        messaging.message_delete,
        instance=instance,
        phone=filters.phone,
        message_id=filters.messageId,
        from_me=filters.owner,
    )


class QueueOut(Schema):
    messages: list[MessageOut]


class QueueQuery(Schema):
    page: int = Field(1, description="A página, a partir de 1.")
    pageSize: int = Field(100, ge=1, le=1000, description="Mensagens por página.")  # noqa: N815


def queue_native(messages: list[Message]) -> dict:
    return {"messages": [message_native(m) for m in messages]}


def queue_zapi(messages: list[Message]) -> list[dict]:
    return [
        {
            "_id": m.zaap_id,
            "DelayMessage": round(
                (m.send_after - m.created_at).total_seconds() if m.send_after else 0
            ),
            "Message": m.text,
            "IsTrial": m.instance.subscribed_since is None,
            "InstanceId": str(m.instance_id),
            "Phone": m.to.lstrip("+"),
            "ZaapId": m.zaap_id,
            "DelayTyping": m.typing_seconds,
            "MessageId": m.message_id,
            "Created": int(m.created_at.timestamp() * 1000),
        }
        for m in messages
    ]


@action(
    "/queue",
    summary="Mensagens na fila",
    tag=QUEUE_TAG,
    native=Shape(("GET",), {200: QueueOut}, queue_native),
    zapi=Shape(("GET",), {200: list[dict]}, queue_zapi),
)
def queue(request: HttpRequest, instance: Instance, filters: Query[QueueQuery]):
    """As mensagens aceitas que ainda não foram entregues ao WhatsApp, das
    mais antigas às mais novas."""
    _only_query(request, "page", "pageSize")
    return messaging.queue_for_instance(instance=instance, limit=filters.pageSize)


class QueuePageIn(Schema):
    pageSize: StrictInt = Field(30, ge=1, le=30)  # noqa: N815
    pagingState: StrictStr | None = None  # noqa: N815


class QueuePageOut(Schema):
    messages: list[dict]
    pagingState: str | None  # noqa: N815
    hasMore: bool  # noqa: N815


def queue_page_out(page: tuple[list[Message], str, bool]) -> dict:
    messages, state, more = page
    return {
        "messages": queue_zapi(messages),
        "pagingState": state or None,
        "hasMore": more,
    }


@action(
    "/queue",
    summary="Fila em páginas",
    tag=QUEUE_TAG,
    native=Shape(("POST",), {200: QueuePageOut}, queue_page_out),
    zapi=Shape(("POST",), {200: QueuePageOut}, queue_page_out),
)
def queue_paged(request: HttpRequest, instance: Instance, body: QueuePageIn):
    """A fila em páginas de até 30 mensagens: envie o pagingState da página
    anterior para ler a seguinte; hasMore diz se há mais."""
    if request.body.strip() and not request.body.lstrip().startswith(b"{"):
        # Every field has a default: only an object may stand for them.
        raise ApiError(
            422, "invalid_request", _("Pedido inválido: o corpo deve ser um objeto.")
        )
    try:
        return messaging.queue_page(
            instance=instance, size=body.pageSize, after=body.pagingState or ""
        )
    except ValueError as error:
        raise ApiError(
            422,
            "invalid_paging_state",
            _("pagingState inválido: use o da página anterior."),
        ) from error


class CountOut(Schema):
    count: int


def count_out(count: int) -> dict:
    return {"count": count}


@action(
    "/queue/count",
    summary="Quantas mensagens na fila",
    tag=QUEUE_TAG,
    native=Shape(("GET",), {200: CountOut}, count_out),
    zapi=Shape(("GET",), {200: CountOut}, count_out),
)
def queue_count(request: HttpRequest, instance: Instance):
    """Quantas mensagens aceitas ainda esperam para ser enviadas."""
    return messaging.queue_count(instance=instance)


class RemovedOut(Schema):
    value: bool
    removed: int


def removed_out(count: int) -> dict:
    return {"value": True, "removed": count}


@action(
    "/queue",
    summary="Esvaziar a fila",
    tag=QUEUE_TAG,
    native=Shape(("DELETE",), {200: RemovedOut}, removed_out),
    zapi=Shape(("DELETE",), {200: RemovedOut}, removed_out),
)
def queue_clear(request: HttpRequest, instance: Instance):
    """Cancela todas as mensagens que ainda não foram enviadas."""
    return messaging.queue_remove(instance=instance)


@action(
    "/queue/{zaap_id}",
    summary="Tirar uma mensagem da fila",
    tag=QUEUE_TAG,
    native=Shape(("DELETE",), {200: RemovedOut}, removed_out),
    zapi=Shape(("DELETE",), {200: RemovedOut}, removed_out),
)
def queue_remove(request: HttpRequest, instance: Instance, zaap_id: str):
    """Cancela uma mensagem que ainda não foi enviada, pelo seu zaapId."""
    removed = messaging.queue_remove(instance=instance, zaap_id=zaap_id)
    if not removed:
        raise ApiError(
            404,
            "not_in_queue",
            _("Esta mensagem não está na fila (já foi enviada ou não existe)."),
        )
    return removed
