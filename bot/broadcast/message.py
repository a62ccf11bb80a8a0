"""The text a recipient reads: the announcement, then the reference code for the hoax check."""

from __future__ import annotations

import html

from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator

FOOTER = N_(
    "Kode pengumuman: {reference}. Kirim kode ini ke bot untuk memastikan pengumuman ini asli."
)


def render_announcement(
    translator: Translator | None, locale: str, text_html: str, reference: str
) -> str:
    """``text_html`` is the announcement as composed (Telegram HTML, already escaped by the
    compose step); the footer is added in the recipient's language, in italics."""
    locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    footer = (
        translator.gettext(locale, FOOTER, reference=reference)
        if translator is not None
        else FOOTER.format(reference=reference)
    )
    return f"{text_html.rstrip()}\n\n<i>{html.escape(footer, quote=False)}</i>"
