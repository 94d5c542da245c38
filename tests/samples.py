"""Small real files of each media kind, for tests that send or receive them."""

import io

from PIL import Image


def png(width: int = 24, height: int = 16, color=(15, 118, 110)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int = 32, height: int = 20) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def webp(size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (250, 200, 0, 255)).save(buffer, format="WEBP")
    return buffer.getvalue()


# An Ogg page with an Opus header: what `filetype` reads as audio/ogg.
OGG = b"OggS\x00\x02" + b"\x00" * 22 + b"OpusHead\x01\x01" + b"\x00" * 64
# An MP4 "ftyp" box: video/mp4.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
