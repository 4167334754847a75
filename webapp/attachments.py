"""Attached files on disk. Each upload is written to a temporary file in the attachments
folder (ATTACHMENTS_DIR, else ``instance/attachments``) and renamed to a random name only
once it is complete and within its limit, so no half-written file ever has a name.

PNG, JPEG, GIF and WebP files are recognised by their first bytes, decoded by Pillow and
re-encoded into a small thumbnail: that thumbnail is the only thing a page ever shows
inline, so a polyglot (an image that is also HTML) is defused. Everything else, and every
original, is only ever downloaded. No database here: services.py records what is stored.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps

from . import current
from .exceptions import Invalid
from .i18n import gettext as _

MB = 1024 * 1024
CHUNK = 64 * 1024
NAME_LIMIT = 255
THUMBNAIL_BOX = (320, 320)
# Larger images are kept as plain files: decoding them would cost too much memory.
MAX_PIXELS = 40_000_000
OCTET_STREAM = "application/octet-stream"
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
STORED_NAME = re.compile(r"[0-9a-f]{32}")


@dataclass
class Stored:
    """A file written to the attachments folder, not yet recorded in the database."""

    name: str
    stored_name: str
    size: int
    content_type: str
    is_image: bool


def folder() -> Path:
    configured = current_app.config["ATTACHMENTS_DIR"]
    path = Path(configured) if configured else Path(current_app.instance_path) / "attachments"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def path_of(stored_name: str) -> Path:
    """Where a stored file is; only ever a name this module made, never a path."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored file's name: {stored_name!r}")
    return folder() / stored_name


def thumbnail_path(stored_name: str) -> Path:
    return path_of(stored_name).with_suffix(".thumb")


def thumbnail_type(content_type: str) -> str:
    """Photos get JPEG thumbnails; every other image a PNG one."""
    return "image/jpeg" if content_type == "image/jpeg" else "image/png"


def limit_bytes(setting: str) -> int:
    return int(float(current.config()[setting]) * MB)


def megabytes(size: int) -> str:
    """A size in MB as people read it: 10, 2.5, or (for tiny test limits) 0.003."""
    value = size / MB
    return f"{value:.1f}".removesuffix(".0") if value >= 0.1 else f"{value:.2g}"


def clean_name(name: str | None) -> str:
    """The name a file was given, made harmless to show and to send back: no folders, no
    control, invisible or line-breaking characters, at most NAME_LIMIT characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in name)
    name = " ".join(name.split())
    if len(name) > NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = f"{stem[: NAME_LIMIT - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:NAME_LIMIT].rstrip()
    return "file" if name in ("", ".", "..") else name


def store(stream: BinaryIO, name: str | None, *, limit: int) -> Stored:
    """Write an uploaded file under a random name (with a thumbnail when it is an image);
    refuse it, leaving nothing behind, when it has more than ``limit`` bytes."""
    shown = clean_name(name)
    stored_name = secrets.token_hex(16)
    final = path_of(stored_name)
    partial = final.with_name(f".{stored_name}.part")
    thumbnail, thumbnail_partial = thumbnail_path(stored_name), partial.with_suffix(".thumb")
    size = 0
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    message = _(
                        "%(name)s is too large: a file may have %(size)s MB.",
                        name=shown,
                        size=megabytes(limit),
                    )
                    raise Invalid(message, fields={"file": message})
                f.write(chunk)
        image_format = _image_format(partial)
        is_image = image_format is not None and _thumbnail(partial, image_format, thumbnail_partial)
        os.replace(partial, final)
        if is_image:
            os.replace(thumbnail_partial, thumbnail)
    except BaseException:
        for path in (partial, thumbnail_partial, final, thumbnail):
            path.unlink(missing_ok=True)
        raise
    content_type = IMAGE_TYPES[image_format] if is_image and image_format else OCTET_STREAM
    return Stored(shown, stored_name, size, content_type, is_image)


def delete(stored_name: str) -> None:
    """Delete a stored file and its thumbnail (gone already is fine)."""
    path_of(stored_name).unlink(missing_ok=True)
    thumbnail_path(stored_name).unlink(missing_ok=True)


def discard(stored: Iterable[Stored]) -> None:
    """Delete files stored for an upload that was refused after all."""
    for item in stored:
        delete(item.stored_name)


def _image_format(path: Path) -> str | None:
    """The image format the file's first bytes announce, if any of the four."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for signature, fmt in SIGNATURES if head.startswith(signature)), None)


def _thumbnail(path: Path, image_format: str, target: Path) -> bool:
    """Decode the image and write a small re-encoded copy to ``target``; False when the
    file is not really an image of that format (then it is kept as a plain file)."""
    try:
        with Image.open(path, formats=[image_format]) as image:
            if image.width * image.height > MAX_PIXELS:
                return False
            image.verify()
        with Image.open(path, formats=[image_format]) as image:
            image.draft("RGB", THUMBNAIL_BOX)
            small = ImageOps.exif_transpose(image)
            small.thumbnail(THUMBNAIL_BOX)
            if image_format == "JPEG":
                small.convert("RGB").save(target, "JPEG", quality=85)
            else:
                small.convert("RGBA").save(target, "PNG", optimize=True)
    except Exception:  # untrusted bytes: whatever Pillow fails with, it is no image
        target.unlink(missing_ok=True)
        return False
    return True
