"""The hoax check's code finder and text comparison."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.broadcast.store import REFERENCE_ALPHABET, new_reference
from bot.broadcast.verify import _without_footer, find_reference, plain


def test_codes_as_citizens_type_them() -> None:
    for text in ("MMK-7K3Q", "mmk 7k3q", "kode MMK7K3Q?", "Kode pengumuman: MMK-7K3Q."):
        assert find_reference(text) == "MMK-7K3Q"
    for text in ("MMK-7K3QX", "XMMK-7K3Q", "MMK-7K3", "syarat ktp", ""):
        assert find_reference(text) is None


@given(
    st.text(alphabet="abcdefgh .,!?:\n", max_size=30), st.text(alphabet="xyz .,!?", max_size=30)
)
def test_a_real_code_is_found_anywhere_in_a_message(before: str, after: str) -> None:
    code = new_reference()
    assert find_reference(f"{before} {code} {after}") == code
    assert find_reference(f"{before} {code.lower().replace('-', ' ')} {after}") == code


@given(st.text(alphabet=REFERENCE_ALPHABET, min_size=4, max_size=4))
def test_every_code_is_found_in_its_footer(body: str) -> None:
    footer = f"Kode pengumuman: MMK-{body}. Kirim kode ini ke bot."
    assert find_reference(footer) == f"MMK-{body}"


def test_forwarded_text_is_compared_without_its_footer() -> None:
    official = plain("<b>Imunisasi</b> gratis &amp; aman.\n\nSabtu 08.00.")
    forwarded = "Imunisasi gratis & aman.\n\nSabtu 08.00.\n\nKode pengumuman: MMK-7K3Q. Kirim..."
    assert _without_footer(forwarded, "MMK-7K3Q") == official
    assert _without_footer("Bayar Rp50.000.\n\nKode pengumuman: MMK-7K3Q.", "MMK-7K3Q") != official
