"""Normaliser tables: chat slang, Papuan Malay, domain spellings, the "kk" rule, stemming."""

from __future__ import annotations

import pytest

from bot.nlu.normalize import content_tokens, normalize
from bot.nlu.stemmer import stem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Papuan Malay as written in Mimika; generic dictionaries get these wrong.
        ("sa pu ktp ilang", "saya punya ktp hilang"),
        ("ko su makan", "kamu sudah makan"),
        ("sa tra tau", "saya tidak tau"),
        ("trada surat", "tidak ada surat"),
        ("kitong mo pigi", "kita mau pergi"),
        ("torang pi kantor", "kita pergi kantor"),
        ("tong pu anak", "kita punya anak"),
        ("de pu akte", "dia punya akta"),
        ("dong su datang", "mereka sudah datang"),
        ("akta su jadi ka", "akta sudah jadi"),
        # chat abbreviations
        ("gmn cara bkin ktp", "bagaimana cara buat ktp"),
        ("bgmn", "bagaimana"),
        ("gimana", "bagaimana"),
        ("sy blm udh", "saya belum sudah"),
        ("yg tdk gk", "yang tidak tidak"),
        ("brp dmn", "berapa dimana"),
        ("bwt akte", "buat akta"),
        ("info loker", "informasi lowongan kerja"),
        ("lowongan pekerjaan", "lowongan kerja"),
        # domain spellings
        ("e-ktp", "ktp"),
        ("ektp", "ktp"),
        ("ktp-el", "ktp"),
        ("ktpel", "ktp"),
        ("e ktp", "ktp"),
        ("KTP elektronik", "ktp"),
        ("akte kelahiran", "akta lahir"),
        ("kartu kluarga hilang", "kk hilang"),
        ("capil", "dukcapil"),
        ("dukcapil", "dukcapil"),
        ("catatan sipil", "dukcapil"),
        ("AK/I", "ak1"),
        ("ak-1", "ak1"),
        ("kartu kuning", "ak1"),
        ("pajak bumi dan bangunan", "pbb"),
        ("kartu identitas anak", "kia"),
        ("ktp digital", "ikd"),
        # cleaning
        ("Halooo!!!", "halo"),
        ("maaaaf", "maaf"),
        ("KTP\u200b hilang\u202e", "ktp hilang"),
        ("anak2", "anak"),
        ("NOP: 94.12.010", "nop 94 12 010"),
    ],
)
def test_normalize_table(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kk hilang", "kk hilang"),
        ("pisah kk dari orang tua", "pisah kk dari orang tua"),
        ("sa pu kk", "saya punya kk"),
        ("kk", "kk"),
        ("kk terbakar", "kk bakar"),
        ("halo kk", "halo"),
        ("makasih kk", "terimakasih"),
        ("kk mau tanya syarat akte", "mau tanya syarat akta"),
        ("berapa biayanya kk", "berapa biaya"),
        ("kk lama saya sobek", "kk lama saya sobek"),
        # an explicit "kartu keluarga" is never dropped, even in address position
        ("halo kartu keluarga", "halo kartu keluarga"),
    ],
)
def test_kk_context_rule(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("membuat", "buat"),
        ("pembuatan", "buat"),
        ("dibuatkan", "buat"),
        ("ktpnya", "ktp"),
        ("mengurus", "urus"),
        ("kehilangan", "hilang"),
        ("perpanjangan", "panjang"),
        ("memperpanjang", "panjang"),
        ("kelahiran", "lahir"),
        ("kematian", "mati"),
        ("perkawinan", "kawin"),
        ("pendaftaran", "daftar"),
        ("pengaduan", "adu"),
        ("kerusakan", "rusak"),
        ("pelatihan", "latih"),
        ("kesehatan", "sehat"),
        ("syaratnya", "syarat"),
        ("bagaimanakah", "bagaimana"),
        ("menghapus", "hapus"),
        ("memperbaiki", "baik"),
        ("pekerjaan", "kerja"),
        ("dimasukkan", "masuk"),
        # domain words that look affixed must survive
        ("akta", "akta"),
        ("kia", "kia"),
        ("pajak", "pajak"),
        ("bangunan", "bangunan"),
        ("keluarga", "keluarga"),
        ("kerja", "kerja"),
        ("dinas", "dinas"),
        ("distrik", "distrik"),
        ("digital", "digital"),
        ("imunisasi", "imunisasi"),
        ("pertama", "pertama"),
        # short words are never stemmed
        ("dia", "dia"),
        ("kan", "kan"),
    ],
)
def test_stemmer_table(word: str, root: str) -> None:
    assert stem(word) == root


def test_content_tokens_drop_stopwords() -> None:
    assert content_tokens(normalize("saya mau tanya syarat akte lahir ya")) == [
        "syarat",
        "akta",
        "lahir",
    ]


def test_question_words_are_kept_for_scoring() -> None:
    """'berapa' separates a bill question from 'bayar di mana'; it must not be a stopword."""
    assert "berapa" in content_tokens(normalize("brp pbb saya"))
    assert "dimana" in content_tokens(normalize("bayar pbb di mana"))


def test_table_outputs_are_stemmer_fixed_points() -> None:
    """Every word a table produces must survive stemming, or a second pass would change it."""
    from bot.nlu.lexicon import STOPWORDS
    from bot.nlu.normalize import _CANONICAL

    moved = [w for w in _CANONICAL - STOPWORDS if stem(w) != w]
    assert moved == []
