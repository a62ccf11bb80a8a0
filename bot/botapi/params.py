"""Uniform access to method arguments however the client sent them.

python-telegram-bot posts form-urlencoded strings (multipart when uploading), other clients
post JSON or use the query string; the real server treats a missing argument and an empty
string the same and parses integers from strings, so handlers read everything through
:class:`Params` instead of touching the raw request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.botapi.errors import bad_request


@dataclass(frozen=True)
class UploadedFile:
    """A file sent in a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Method arguments with Bot API parsing rules."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def get(self, name: str) -> Any:
        """The raw value; ``None`` when missing or an empty string."""
        value = self._values.get(name)
        if value == "":
            return None
        return value

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, UploadedFile):
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            try:
                return int(float(str(value)))
            except ValueError:
                return default

    def get_float(self, name: str, default: float | None = None) -> float | None:
        value = self.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            return default

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def get_json(self, name: str, what: str) -> Any:
        """A JSON-typed argument (sent as a JSON string by form clients)."""
        value = self.get(name)
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what} JSON object") from None

    def get_file(self, name: str) -> UploadedFile | None:
        value = self.get(name)
        return value if isinstance(value, UploadedFile) else None

    def required_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None:
            raise bad_request(f'parameter "{name}" is required')
        return value

    def loggable(self) -> dict[str, Any]:
        """The arguments as recorded in the request log (file contents summarised)."""
        result: dict[str, Any] = {}
        for key, value in self._values.items():
            if isinstance(value, UploadedFile):
                result[key] = f"<file {value.filename} {len(value.data)} bytes>"
            else:
                result[key] = value
        return result


async def read_params(request: web.Request) -> Params:
    """Merge query string and body (form, multipart or JSON) into :class:`Params`."""
    values: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if isinstance(body, dict):
                values.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read()
                    values[part.name] = UploadedFile(
                        part.filename,
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(data),
                    )
                else:
                    values[part.name] = await part.text()
        else:
            form = await request.post()
            for key, value in form.items():
                values[key] = value if isinstance(value, str) else str(value)
    return Params(values)
