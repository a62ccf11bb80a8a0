"""In-memory file storage for uploads (bot side) and simulated citizen photos/documents.

Files get Telegram-like ``file_id``s so a bot can resend by id and PTB's ``get_file`` +
``download`` round-trip works against ``/file/bot<token>/<file_path>``.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from bot.botapi.state import BotState, StoredFile

_EXTENSIONS = {"photo": "jpg", "document": "bin", "sticker": "webp"}
_FOLDERS = {"photo": "photos", "document": "documents", "sticker": "stickers"}


def store_file(
    state: BotState,
    data: bytes,
    kind: str,
    *,
    mime_type: str = "application/octet-stream",
    file_name: str | None = None,
) -> StoredFile:
    """Keep ``data`` and hand out ids; the same bytes get the same ``file_unique_id``."""
    number = len(state.files) + 1
    digest = hashlib.sha256(data).hexdigest()[:16]
    file_id = f"{kind[:2].upper()}{state.user.id}_{number:06d}_{digest[:8]}"
    extension = (file_name or "").rsplit(".", 1)[-1] if file_name and "." in file_name else None
    path = f"{_FOLDERS.get(kind, 'documents')}/file_{number}.{extension or _EXTENSIONS[kind]}"
    stored = StoredFile(file_id, f"U{digest}", data, path, mime_type, file_name)
    state.files[file_id] = stored
    return stored


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG; a plausible default otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return 800, 600


def photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
    """PhotoSize list as Telegram returns it: a thumbnail first, the largest last."""
    width, height = image_size(stored.data)
    scale = min(1.0, 90 / max(width, height, 1))
    thumb = {
        "file_id": f"{stored.file_id}_s",
        "file_unique_id": f"{stored.file_unique_id}s",
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
        "file_size": min(len(stored.data), 2048),
    }
    full = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": len(stored.data),
    }
    return [thumb, full]


def document_object(stored: StoredFile) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "mime_type": stored.mime_type,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    return document


def find_file(state: BotState, file_id: str) -> StoredFile | None:
    """Look up a file id, including the thumbnail ids handed out by :func:`photo_sizes`."""
    if file_id in state.files:
        return state.files[file_id]
    if file_id.endswith("_s"):
        return state.files.get(file_id[:-2])
    return None
