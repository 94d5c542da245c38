"""Media of messages: what a caller may send, read from the bytes themselves.

A send gives media as a base64 data URI (decoded and checked in the request)
or as a URL (fetched by the worker through the same guard as webhooks, never
by the web request). Either way the type is read from the content with
`filetype`, not from a name or a claimed type, and each kind has its size
limit. The bytes are kept in Django's storage as a MediaFile.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass

import filetype
from django.core.files.base import ContentFile
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
