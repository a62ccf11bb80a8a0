"""Per-OPD connection settings, read from an environment mapping at start-up.

Each OPD is configured by its own variables (``DISDUKCAPIL_API_URL``, ``…_API_TOKEN``,
``…_API_TIMEOUT``, ``…_POLL_INTERVAL``, ``…_HOOK_SECRET``) so one OPD can be switched on, moved
or given a longer timeout without touching the others. An OPD without a URL is simply not
configured: its actions answer "unavailable". A present but broken value fails loudly here,
at start-up, rather than when the first citizen asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

OpdName = Literal["disdukcapil", "disnakertrans", "dinkes", "bapenda"]
OPD_NAMES: tuple[OpdName, ...] = ("disdukcapil", "disnakertrans", "dinkes", "bapenda")

DEFAULT_TIMEOUT = 5.0
DEFAULT_POLL_INTERVAL = 300.0


class SettingsError(ValueError):
    """A configuration value is present but unusable; the message names the variable."""


@dataclass(frozen=True, slots=True)
class OpdSettings:
    """How to reach one OPD. ``timeout`` is the overall deadline of one call, retries included."""

    opd: str
    base_url: str
    token: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_TIMEOUT
    poll_interval: float = DEFAULT_POLL_INTERVAL
    max_retries: int = 2
    backoff_base: float = 0.1
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    hook_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise SettingsError(f"{self.opd}: timeouts must be positive")
        if self.max_retries < 0 or self.breaker_threshold < 1 or self.breaker_cooldown < 0:
            raise SettingsError(f"{self.opd}: retry and breaker settings out of range")


@dataclass(frozen=True, slots=True)
class IntegrationSettings:
    """Settings of every configured OPD, by name; unconfigured OPDs are absent."""

    opds: Mapping[str, OpdSettings]

    def get(self, opd: str) -> OpdSettings | None:
        return self.opds.get(opd)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def load_opd_settings(opd: str, env: Mapping[str, str]) -> OpdSettings | None:
    """Reads one OPD's variables; ``None`` when its URL is not set."""
    prefix = opd.upper()
    url = env.get(f"{prefix}_API_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{prefix}_API_URL must be an http(s) URL, got {url!r}")
    token = env.get(f"{prefix}_API_TOKEN", "").strip()
    if not token:
        raise SettingsError(f"{prefix}_API_TOKEN is required when {prefix}_API_URL is set")
    timeout = _float(env, f"{prefix}_API_TIMEOUT", DEFAULT_TIMEOUT)
    return OpdSettings(
        opd=opd,
        base_url=url.rstrip("/"),
        token=token,
        timeout=timeout,
        connect_timeout=_float(env, f"{prefix}_API_CONNECT_TIMEOUT", timeout),
        poll_interval=_float(env, f"{prefix}_POLL_INTERVAL", DEFAULT_POLL_INTERVAL),
        hook_secret=env.get(f"{prefix}_HOOK_SECRET", "").strip() or None,
    )


def load_settings(env: Mapping[str, str]) -> IntegrationSettings:
    """Reads every OPD's settings from ``env`` (pass ``os.environ`` in production)."""
    opds: dict[str, OpdSettings] = {}
    for opd in OPD_NAMES:
        settings = load_opd_settings(opd, env)
        if settings is not None:
            opds[opd] = settings
    return IntegrationSettings(opds=opds)
