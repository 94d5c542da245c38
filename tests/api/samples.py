"""Small real files of each type, made here, for media tests."""

import base64
import io

from PIL import Image


def image(fmt: str = "PNG", size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (37, 211, 102)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = image("PNG")
JPEG = image("JPEG")
WEBP = image("WEBP")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OGG = b"OggS" + bytes(60)
MP3 = b"ID3\x03\x00" + bytes(60)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40)


def data_uri(data: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
