"""Media of messages: what a caller may send, read from the bytes themselves.

A send gives media as a base64 data URI (decoded and checked in the request)
or as a URL (fetched by the worker through the same guard as webhooks, never
by the web request). Either way the type is read from the content with
`filetype`, not from a name or a claimed type, and each kind has its size
limit. The bytes are kept in Django's storage as a MediaFile.

Media goes out of PlugMessage (webhooks, the simulated phone) as a download
link that needs no login: the MediaFile id and an expiry, signed with the
project's secret, so it cannot be guessed, altered or used after it expires.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from instances.models import Instance, MediaFile, MessageKind

MB = 1024 * 1024
# WhatsApp's own limits, or below them.
MAX_BYTES = {
    MessageKind.IMAGE: 5 * MB,
    MessageKind.STICKER: 1 * MB,
    MessageKind.AUDIO: 16 * MB,
    MessageKind.VIDEO: 16 * MB,
    MessageKind.DOCUMENT: 16 * MB,
    # A link's preview image.
    MessageKind.LINK: 1 * MB,
}
ACCEPTED = {
    MessageKind.IMAGE: {"image/jpeg", "image/png", "image/webp", "image/gif"},
    MessageKind.LINK: {"image/jpeg", "image/png", "image/webp", "image/gif"},
    MessageKind.STICKER: {"image/webp", "image/png"},
    MessageKind.AUDIO: {
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/x-wav",
    },
    MessageKind.VIDEO: {"video/mp4", "video/3gpp", "video/quicktime"},
}
# Never sent as a document, whatever it is called.
EXECUTABLE = {
    "application/x-msdownload",
    "application/x-executable",
    "application/x-mach-binary",
    "application/x-shockwave-flash",
    "application/vnd.microsoft.portable-executable",
}
KIND_WORDS = {
    MessageKind.IMAGE: gettext_lazy("imagem"),
    MessageKind.STICKER: gettext_lazy("figurinha"),
    MessageKind.AUDIO: gettext_lazy("áudio"),
    MessageKind.VIDEO: gettext_lazy("vídeo"),
    MessageKind.DOCUMENT: gettext_lazy("documento"),
    MessageKind.LINK: gettext_lazy("imagem de prévia"),
}
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,]*)*)(;base64)?,")


class MediaRefused(Exception):
    """Media that cannot be sent; `status` and `code` become the API's answer
    and the message is a Portuguese sentence for the developer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class CheckedMedia:
    data: bytes
    mime_type: str
    file_name: str


def is_data_uri(value: str) -> bool:
    return value[:5].lower() == "data:"


def data_uri_decode(value: str, *, kind: str) -> bytes:
    """The bytes of a base64 data URI. Raises MediaRefused: 422 when it is
    not a base64 data URI, 413 when it is larger than the kind allows (judged
    from its length before decoding, so a huge one costs nothing)."""
    match = _DATA_URI.match(value[:300])
    if not match or not match.group(3):
        raise MediaRefused(
            422,
            "invalid_media",
            _(
                "Mídia inválida: envie uma URL pública ou um data URI em base64, "
                "por exemplo data:image/png;base64,...."
            ),
        )
    payload = value[match.end() :]
    limit = MAX_BYTES[kind]
    if len(payload) * 3 // 4 > limit + 3:
        raise too_large(kind)
    try:
        return base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise MediaRefused(
            422,
            "invalid_media",
            _("Mídia inválida: o conteúdo do data URI não é base64 válido."),
        ) from error


def too_large(kind: str) -> MediaRefused:
    return MediaRefused(
        413,
        "media_too_large",
        _("O arquivo de %(kind)s passa do limite de %(limit)d MB.")
        % {"kind": KIND_WORDS[kind], "limit": max(1, MAX_BYTES[kind] // MB)},
    )


def media_check(
    data: bytes, *, kind: str, file_name: str = "", extension: str = ""
) -> CheckedMedia:
    """Check bytes meant to be sent as `kind`: size, and the type read from
    the content. A document may be of any type but an executable; when its
    extension names a type that the content contradicts (a ".pdf" that is a
    PNG), it is refused. Raises MediaRefused (413 or 422)."""
    if len(data) > MAX_BYTES[kind]:
        raise too_large(kind)
    if not data:
        raise MediaRefused(422, "invalid_media", _("O arquivo de mídia está vazio."))
    guessed = filetype.guess(data[:8192])
    mime = guessed.mime if guessed else ""
    if kind == MessageKind.DOCUMENT:
        if mime in EXECUTABLE or data[:2] == b"MZ" or data[:4] == b"\x7fELF":
            raise MediaRefused(
                422,
                "invalid_media",
                _("Programas executáveis não podem ser enviados como documento."),
            )
        claimed = mimetypes.types_map.get(f".{extension.lower()}", "")
        if mime and claimed and _family(claimed) != _family(mime):
            raise MediaRefused(
                422,
                "media_type_mismatch",
                _(
                    "O conteúdo do documento não é um arquivo .%(ext)s "
                    "(é %(mime)s): confira o arquivo ou a extensão."
                )
                % {"ext": extension.lower(), "mime": mime},
            )
        mime = mime or claimed or "application/octet-stream"
    elif mime not in ACCEPTED[kind]:
        raise MediaRefused(
            422,
            "unsupported_media_type",
            _(
                "O conteúdo enviado não é um arquivo de %(kind)s aceito pelo "
                "WhatsApp (%(accepted)s)."
            )
            % {
                "kind": KIND_WORDS[kind],
                "accepted": ", ".join(sorted(ACCEPTED[kind])),
            },
        )
    return CheckedMedia(data=data, mime_type=mime, file_name=file_name[:200])


def _family(mime: str) -> str:
    # Office formats are zip files inside: compare what filetype can tell.
    if mime in ("application/zip",) or "openxmlformats" in mime:
        return "zip-office"
    return mime


def media_store(*, instance: Instance, media: CheckedMedia) -> MediaFile:
    """Write checked bytes to storage and record them."""
    stored = MediaFile(
        instance=instance,
        mime_type=media.mime_type,
        size=len(media.data),
        file_name=media.file_name,
    )
    stored.file.save("media", ContentFile(media.data), save=False)
    stored.save()
    return stored


def media_read(media: MediaFile) -> bytes:
    with media.file.open("rb") as handle:
        return handle.read()


def extension_for(mime: str) -> str:
    """A file extension for a type, for names of files that came without one."""
    special = {"audio/ogg": ".ogg", "image/jpeg": ".jpg", "audio/mpeg": ".mp3"}
    return special.get(mime) or mimetypes.guess_extension(mime) or ".bin"


# Download links.

MEDIA_LINK_SALT = "instances.media-link"
# Shown in the browser rather than downloaded: types a browser plays or draws
# and that cannot carry script (no SVG, no HTML, whatever the document's name).
INLINE_TYPES = (
    ACCEPTED[MessageKind.IMAGE]
    | ACCEPTED[MessageKind.STICKER]
    | ACCEPTED[MessageKind.AUDIO]
    | ACCEPTED[MessageKind.VIDEO]
)
DEFAULT_NAMES = {
    MessageKind.IMAGE: "imagem",
    MessageKind.STICKER: "figurinha",
    MessageKind.AUDIO: "audio",
    MessageKind.VIDEO: "video",
    MessageKind.DOCUMENT: "documento",
}


class MediaLinkInvalid(Exception):
    """A link that was not made here, was altered, or names no file now."""


class MediaLinkExpired(Exception):
    """A genuine link past its expiry."""


@dataclass(frozen=True)
class LinkedMedia:
    media_file: MediaFile
    attachment: bool
    file_name: str


def media_file_name(media_file: MediaFile, *, kind: str = "") -> str:
    """The name a download gets: the stored one, or one made from the kind
    and the type ("imagem.jpg"), never with a path in it."""
    name = media_file.file_name.replace("/", "_").replace("\\", "_").strip(". ")
    if name:
        return name[:200]
    return DEFAULT_NAMES.get(kind, "arquivo") + extension_for(media_file.mime_type)


def _served_as_attachment(media_file: MediaFile, kind: str) -> bool:
    return kind == MessageKind.DOCUMENT or media_file.mime_type not in INLINE_TYPES


def media_link_path(media_file: MediaFile, *, kind: str = "") -> str:
    """The path of a download link for `media_file`, valid for
    settings.MEDIA_LINK_SECONDS from now. `kind` is the message's: a
    document, or any type a browser should not show itself, is served as an
    attachment."""
    expires = int(timezone.now().timestamp()) + settings.MEDIA_LINK_SECONDS
    signed = signing.dumps([media_file.pk.hex, expires, kind], salt=MEDIA_LINK_SALT)
    return reverse(
        "media:download", args=[signed, media_file_name(media_file, kind=kind)]
    )


def media_link(media_file: MediaFile, *, kind: str = "") -> str:
    """The absolute download link of `media_file` (see media_link_path), for
    webhooks: it needs no login, cannot be guessed, and expires."""
    return settings.SITE_URL + media_link_path(media_file, kind=kind)


def media_link_open(signed: str) -> LinkedMedia:
    """The media a link points to. Raises MediaLinkExpired for a genuine link
    past its expiry, MediaLinkInvalid for anything else that is not a live
    link to an existing file."""
    try:
        media_id, expires, kind = signing.loads(signed, salt=MEDIA_LINK_SALT)
        expires = float(expires)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise MediaLinkInvalid from error
    if timezone.now().timestamp() >= expires:
        raise MediaLinkExpired
    found = MediaFile.objects.filter(pk=media_id).first()
    if found is None:
        raise MediaLinkInvalid
    return LinkedMedia(
        media_file=found,
        attachment=_served_as_attachment(found, str(kind)),
        file_name=media_file_name(found, kind=str(kind)),
    )
