"""Curated word tables for normalising Indonesian citizen chat in Mimika.

These tables are written by hand for this project. Generic slang dictionaries (IndoCollex,
CIL) were read for inspiration only: they get Papuan Malay wrong (``su`` is not "anjing",
``ko`` is not "kok", ``pi`` is not "tapi", ``de`` is not "adik") and they map ``kk`` to
"kakak" although in a public-service chat it often means Kartu Keluarga. So the order of
precedence is: Papuan Malay overrides, then domain phrases, then general chat slang.

Every value is already in canonical form, so normalising a normalised text changes nothing.
"""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """A word set written as whitespace-separated text: compact to read and to extend."""
    return frozenset(text.split())


# Papuan Malay (Melayu Papua) as written in Mimika. Applied before any other table so that a
# generic meaning never wins. Empty string = drop the token (a particle with no content).
PAPUAN: dict[str, str] = {
    "sa": "saya",
    "sy": "saya",
    "ko": "kamu",
    "kam": "kamu",
    "pu": "punya",
    "pung": "punya",
    "su": "sudah",
    "tra": "tidak",
    "trada": "tidak ada",
    "tida": "tidak",
    "mo": "mau",
    "pigi": "pergi",
    "pi": "pergi",
    "de": "dia",
    "dong": "mereka",
    "kitong": "kita",
    "torang": "kita",
    "tong": "kita",
    "ka": "",  # question particle: "akta su jadi ka?"
    "blom": "belum",
    "ambe": "ambil",
    "bapa": "bapak",
    "mace": "ibu",
    "pace": "bapak",
    "kaka": "kakak",
    "ade": "adik",
    "sampe": "sampai",
}

# General chat slang and abbreviations → canonical word(s).
SLANG: dict[str, str] = {
    # question words
    "gmn": "bagaimana",
    "gmna": "bagaimana",
    "gimana": "bagaimana",
    "gimna": "bagaimana",
    "gmana": "bagaimana",
    "bgmn": "bagaimana",
    "bgmna": "bagaimana",
    "bgaimana": "bagaimana",
    "bagaimn": "bagaimana",
    "brp": "berapa",
    "brapa": "berapa",
    "kpn": "kapan",
    "kapn": "kapan",
    "dmn": "dimana",
    "dmana": "dimana",
    "dimn": "dimana",
    "kmn": "kemana",
    "knp": "kenapa",
    "napa": "kenapa",
    "ap": "apa",
    "apakah": "apa",
    "gmn2": "bagaimana",
    # pronouns
    "sya": "saya",
    "aq": "saya",
    "aku": "saya",
    "ak": "saya",
    "gw": "saya",
    "gue": "saya",
    "gua": "saya",
    "sy2": "saya",
    "km": "kamu",
    "lu": "kamu",
    "lo": "kamu",
    "anda": "kamu",
    "kalian": "kamu",
    "dy": "dia",
    "kk2": "kakak",
    "kak": "kakak",
    "min": "kakak",  # "halo min" addresses the account; "hubungi admin" asks for one
    "mimin": "kakak",
    "mas": "kakak",
    "mba": "kakak",
    "mbak": "kakak",
    "bu": "ibu",
    "pak": "bapak",
    "bpk": "bapak",
    "ortu": "orang tua",
    "org": "orang",
    "anak2": "anak",
    # function words
    "yg": "yang",
    "tdk": "tidak",
    "tdak": "tidak",
    "gk": "tidak",
    "ga": "tidak",
    "gak": "tidak",
    "g": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "engga": "tidak",
    "enggak": "tidak",
    "ndak": "tidak",
    "nda": "tidak",
    "tak": "tidak",
    "kagak": "tidak",
    "blm": "belum",
    "belom": "belum",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "dah": "sudah",
    "sudh": "sudah",
    "dh": "sudah",
    "bs": "bisa",
    "bsa": "bisa",
    "bisakah": "bisa",
    "hrs": "harus",
    "msh": "masih",
    "masi": "masih",
    "lg": "lagi",
    "jg": "juga",
    "aja": "saja",
    "aj": "saja",
    "doang": "saja",
    "sm": "sama",
    "dgn": "dengan",
    "dg": "dengan",
    "dr": "dari",
    "utk": "untuk",
    "untk": "untuk",
    "tuk": "untuk",
    "bwt": "buat",
    "bkin": "buat",
    "bikin": "buat",
    "bkn": "bukan",
    "krn": "karena",
    "karna": "karena",
    "klo": "kalau",
    "kalo": "kalau",
    "kl": "kalau",
    "pd": "pada",
    "tp": "tapi",
    "tpi": "tapi",
    "trs": "terus",
    "sblm": "sebelum",
    "stlh": "setelah",
    "abis": "habis",
    "tlg": "tolong",
    "tolongin": "tolong",
    "mhn": "mohon",
    "skrg": "sekarang",
    "skrng": "sekarang",
    "bsk": "besok",
    "kmrn": "kemarin",
    "kemaren": "kemarin",
    "tgl": "tanggal",
    "thn": "tahun",
    "th": "tahun",
    "thun": "tahun",
    "bln": "bulan",
    "hr": "hari",
    "jm": "jam",
    "mau2": "mau",
    "pengen": "ingin",
    "pingin": "ingin",
    "pgn": "ingin",
    "mw": "mau",
    "mao": "mau",
    "ok": "oke",
    "okay": "oke",
    "okey": "oke",
    "makasih": "terimakasih",
    "makasi": "terimakasih",
    "mksh": "terimakasih",
    "mksih": "terimakasih",
    "trims": "terimakasih",
    "trimakasih": "terimakasih",
    "thx": "terimakasih",
    "thanks": "terimakasih",
    "hallo": "halo",
    "hello": "halo",
    "helo": "halo",
    "hai": "halo",
    "hi": "halo",
    "hy": "halo",
    "p": "halo",
    "ass": "salam",
    "assalamualaikum": "salam",
    "assalamualaikum wr wb": "salam",
    "shalom": "salam",
    "syalom": "salam",
    "slmt": "selamat",
    "pgi": "pagi",
    # verbs and states that citizens shorten
    "ngurus": "urus",
    "ngurusin": "urus",
    "urusin": "urus",
    "diurusin": "urus",
    "bikinin": "buat",
    "dibikinin": "buat",
    "dibikin": "buat",
    "ilang": "hilang",
    "ilng": "hilang",
    "hlg": "hilang",
    "ngilang": "hilang",
    "rsk": "rusak",
    "nanya": "tanya",
    "tny": "tanya",
    "nyari": "cari",
    "ngecek": "cek",
    "dicek": "cek",
    "check": "cek",
    "ngambil": "ambil",
    "ambl": "ambil",
    "byr": "bayar",
    "bayarnya": "bayar",
    "daftarin": "daftar",
    "dftr": "daftar",
    "ganti2": "ganti",
    "gnti": "ganti",
    "ubah2": "ubah",
    "nikah": "kawin",
    "menikah": "kawin",
    "pernikahan": "kawin",
    "nikahan": "kawin",
    "kawinan": "kawin",
    "meninggal": "mati",
    "wafat": "mati",
    "almarhum": "mati",
    "almarhumah": "mati",
    "alm": "mati",
    "lahiran": "lahir",
    "ngelamar": "lamar",
    "brobat": "obat",
    # service words
    "sarat": "syarat",
    "syrat": "syarat",
    "srat": "syarat",
    "syarat2": "syarat",
    "prsyaratan": "syarat",
    "persyratan": "syarat",
    "akte": "akta",
    "akt": "akta",
    "ktpel": "ktp",
    "ektp": "ktp",
    "ktpnya": "ktp",
    "ktp2": "ktp",
    "kk2nya": "kk",
    "kks": "kk",
    "capil": "dukcapil",
    "disdukcapil": "dukcapil",
    "dispendukcapil": "dukcapil",
    "dukcpl": "dukcapil",
    "disnaker": "disnakertrans",
    "nakertrans": "disnakertrans",
    "naker": "disnakertrans",
    "loker": "lowongan kerja",
    "lowker": "lowongan kerja",
    "pencaker": "pencari kerja",
    "ak1": "ak1",
    "aki": "ak1",
    "pkm": "puskesmas",
    "puskesmass": "puskesmas",
    "pusksmas": "puskesmas",
    "pustu": "puskesmas",
    "rsud": "rumah sakit",
    "rs": "rumah sakit",
    "vaksinasi": "vaksin",
    "imunisasi2": "imunisasi",
    "imunisasinya": "imunisasi",
    "bpjsnya": "bpjs",
    "jkn": "bpjs",
    "kis": "bpjs",
    "sppt": "sppt",
    "pbb2": "pbb",
    "nomer": "nomor",
    "nmr": "nomor",
    "no": "nomor",
    "noreg": "nomor registrasi",
    "almt": "alamat",
    "kel": "kelurahan",
    "kec": "distrik",
    "kecamatan": "distrik",
    "info": "informasi",
    "infonya": "informasi",
    "jdwl": "jadwal",
    "jadwalnya": "jadwal",
    "miru": "mimika baru",
    "hp": "telepon",
    "wa": "whatsapp",
    "cs": "petugas",
    "operator": "petugas",
    "orang": "orang",
    "pengumuman2": "pengumuman",
    "notif": "notifikasi",
    "indo": "indonesia",
    "online": "daring",
    "onlen": "daring",
    "ofline": "luring",
    "offline": "luring",
    "ngadu": "adu",
    "misah": "pisah",
    "mecah": "pecah",
    "pegawai": "petugas",
    "staf": "petugas",
    "staff": "petugas",
    "chat": "bicara",
    "ngobrol": "bicara",
    "ngomong": "bicara",
    "omong": "bicara",
    "mama": "ibu",
    "update": "ubah",
    "apdet": "ubah",
    "lecek": "lusuh",
    "komplain": "keluh",
    "complain": "keluh",
    "komplen": "keluh",
    "kompln": "keluh",
}

# Multi-word phrases → canonical text, longest first when applied. Keys are token tuples
# after punctuation became spaces ("e-ktp" → "e ktp", "ak/1" → "ak 1").
PHRASES: dict[tuple[str, ...], str] = {
    ("e", "ktp"): "ktp",
    ("ktp", "el"): "ktp",
    ("ktp", "elektronik"): "ktp",
    ("ktp", "elektrik"): "ktp",
    ("kartu", "tanda", "penduduk"): "ktp",
    ("kartu", "tanda", "penduduk", "elektronik"): "ktp",
    ("k", "t", "p"): "ktp",
    ("kartu", "identitas", "anak"): "kia",
    ("ktp", "anak"): "kia",
    ("identitas", "kependudukan", "digital"): "ikd",
    ("ktp", "digital"): "ikd",
    ("ktp", "online"): "ikd",
    ("ak", "1"): "ak1",
    ("ak", "i"): "ak1",
    ("ak", "l"): "ak1",
    ("kartu", "ak1"): "ak1",
    ("kartu", "kuning"): "ak1",
    ("kartu", "pencari", "kerja"): "ak1",
    ("kartu", "kerja"): "ak1",
    ("kartu", "pencaker"): "ak1",
    ("pajak", "bumi", "dan", "bangunan"): "pbb",
    ("pajak", "bumi", "bangunan"): "pbb",
    ("pajak", "bumi"): "pbb",
    ("pbb", "p2"): "pbb",
    ("pbb", "p"): "pbb",
    ("catatan", "sipil"): "dukcapil",
    ("pencatatan", "sipil"): "dukcapil",
    ("dinas", "kependudukan"): "dukcapil",
    ("surat", "keterangan", "sehat"): "surat sehat",
    ("surat", "keterangan", "berbadan", "sehat"): "surat sehat",
    ("surat", "ket", "sehat"): "surat sehat",
    ("surat", "berbadan", "sehat"): "surat sehat",
    ("bpjs", "kesehatan"): "bpjs",
    ("bpjs", "kes"): "bpjs",
    ("kartu", "indonesia", "sehat"): "bpjs",
    ("di", "mana"): "dimana",
    ("ke", "mana"): "kemana",
    ("terima", "kasih"): "terimakasih",
    ("tenaga", "kerja"): "tenaga kerja",
    ("bahasa", "inggris"): "bahasa inggris",
    ("orang", "tua"): "orang tua",
    ("no", "reg"): "nomor registrasi",
}

# Phrases that mean Kartu Keluarga without doubt (the plain "kk" is decided by context).
KK_PHRASES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("kartu", "keluarga"),
        ("kartu", "kluarga"),
        ("kartu", "klrg"),
        ("kartu", "keluarg"),
        ("krtu", "keluarga"),
        ("k", "k"),
    }
)

# Words that make a nearby "kk" mean Kartu Keluarga (canonical forms, after stemming).
KK_DOC_CONTEXT: frozenset[str] = word_set(
    """
    buat urus baru hilang rusak pisah pecah numpang tambah anggota alamat nama ktp akta
    cetak ganti ubah data masuk keluarga nomor fotokopi foto kopi asli kepala status cek
    lama hapus keluar kurang salah baik update legalisir pindah lapor daftar syarat kia
    lahir kawin cerai mati robek basah sobek pudar jadi ambil scan berkas dokumen bawa
    lampir punya dukcapil anak istri suami bayi isi kolom tulis registrasi ganda dobel
    terbit proses perlu pakai lusuh luntur permohonan bakar selesai terdaftar kirim dapat
    tinggal bapak ibu
    """
)

# Words that show a "kk" is a form of address ("halo kk", "makasih kk", "kk mau tanya").
ADDRESS_CONTEXT: frozenset[str] = word_set(
    """
    halo salam permisi maaf pagi siang sore malam selamat terimakasih ya iya oke sip siap
    admin tanya mau ingin boleh tolong mohon bantu apa bagaimana nih deh sih dong yah kakak
    adik mereka
    """
)

# Roots and whole words the stemmer must return unchanged, including domain words that look
# affixed ("akta", "pajak", "bangunan", "keluarga", "kerja", "dinas", "distrik", "digital").
ROOTS: frozenset[str] = word_set(
    """
    akta kia ktp kk ikd pbb bphtb nop nik sppt bpjs pbi ak1 blk pajak bangunan keluarga
    kerja dinas distrik digital data kartu puskesmas posyandu imunisasi vaksin vaksinasi
    kelurahan kampung desa kabupaten provinsi penduduk identitas elektronik dukcapil
    disnakertrans dinkes bapenda pengumuman informasi registrasi status domisili mimika
    timika papua reklame restoran hotel hiburan parkir tanah rumah bumi sertifikat notaris
    hibah warisan waris berita bahasa inggris indonesia tenaga perusahaan kursus sekolah
    lahir kawin cerai mati bayi balita anak ibu bapak hamil dokter bidan klinik obat sakit
    sehat gereja masjid agama pengadilan polisi kepolisian petugas pegawai manusia admin
    operator menu halo selamat pagi siang sore malam salam permisi terima kasih berapa
    bagaimana dimana kemana kapan kenapa mengapa apa siapa mana sekarang kemarin besok
    tahun bulan hari minggu jam tanggal jadwal lokasi alamat kantor kota luar dalam antar
    negeri pergi perlu pertama terus teman jalan badan makan ikan taman pesan pasar bantu
    tapi perempuan laki pemerintah pemerintahan pemilu pemilih selain sesuai setelah
    sebelum sudah belum sedang tidak bukan karena kalau dengan untuk dari pada kepada
    tentang sampai sekitar beberapa semua satu dua tiga lagi juga saja bisa harus boleh
    akan masih baru lama ganti ubah urus buat hilang rusak cetak ulang ambil cek lacak
    tanya cari bayar tagih lunas denda tunggak beli jual daftar lapor adu keluh langganan
    hapus pindah datang keluar masuk tambah kurang pisah pecah numpang rekam aktif aktivasi
    lowongan pencari terimakasih panjang makam betul aju mohon rujuk pasang unduh jemput
    bola keliling kunjung layan latih lamar lowong kuning tinggal surat terang nama salah
    benar baik koreksi nomor kode biaya gratis murah mahal harga modal uang mampu miskin
    subsidi tanggung iuran peserta anggota kepala istri suami orang tua kakak adik cucu
    nenek kakek catat sipil syarat proses selesai jadi siap antri antre online daring
    luring aplikasi website situs telepon whatsapp email berhenti stop kirim dapat beri
    tahu kabar notifikasi ikut gabung bicara hubung sambung tolong minta ingin mau lambat
    pungli kasar tutup buka libur tempat dekat jauh posko kecamatan kelas mandiri campak
    polio tetanus hepatitis bcg dpt mr las listrik mekanik jahit komputer barista satpam
    montir sepeda motor mobil kendaraan air walet mineral objek wajib npwpd kena kenaikan
    bangun tuan bank transfer teller loket kasir setor kuitansi bukti stiker lewat melalui
    via atm mbanking qris pos indomaret alfamart sertifikasi kompetensi gaji proyek
    freeport tambang umur usia dewasa remaja jaminan asuransi rawat inap berobat perawat
    pasien darurat ugd igd ambulans cpns pppk tes ujian kuliah beasiswa nikah foto kopi
    fotokopi berkas dokumen scan legalisir asli sidik jari iris tanda tangan blangko habis
    kosong stok berlaku seumur hidup kadaluarsa kedaluwarsa expired permohonan didik
    pendidikan kembali percuma sama berbeda beda warga masyarakat rakyat negara wni wna
    paspor imigrasi visa kua pendeta pastor pemberkatan catatan
    """
)

# Stopwords: carry no intent on their own. Question words are NOT here (they separate
# "berapa tagihan" from "bayar di mana"); inverse intent frequency already down-weights
# common words, so this list only holds pure function words and politeness.
STOPWORDS: frozenset[str] = word_set(
    """
    saya kamu dia kita kami mereka punya yang di ke dan atau untuk dengan ini itu tersebut
    nya ya iya yah sih deh dong nih lah kah pun kan tah loh lho kok si sang para pada oleh
    adalah ialah akan telah agar supaya juga saja lagi mau ingin bisa boleh harus tolong
    mohon minta kakak adik bapak ibu tanya nanya bertanya permisi maaf selamat pagi siang
    sore malam salam terimakasih oke sip siap baik apa gitu begitu begini kalau jika karena
    tapi tetapi namun sama se sebuah seorang dulu sekarang kira kiranya mungkin hal tadi
    nanti masih ada the a an is to of and i my me please pls plz you your can do how for in
    it on be am are what with want would like need this that hari
    """
)

# Greeting words: stopwords for matching services, but the whole message being a greeting
# is itself an intent (umum.menu), so the matcher looks at them separately.
GREETINGS: frozenset[str] = word_set(
    """
    halo salam permisi selamat pagi siang sore malam shalom
    """
)

# Place names in and around Mimika. They say where, not what, so they weigh nothing when a
# message is scored ("puskesmas di kwamki narama" is about a puskesmas).
PLACES: frozenset[str] = word_set(
    """
    timika mimika miru agimuga jita jila tembagapura kwamki narama hoya iwaka wania amar
    alama kuala kencana kokonao atuka mapurujaya potowayburu potowaiburu sempan kebun sirih
    koperapoka nawaripi inauga kamoro pasar sentral sp1 sp2 sp3 sp4 sp5 sp6 sp7 sp8 sp9
    sp10 sp11 sp12 sp13 papua tengah nabire jayapura makassar jakarta surabaya ambon sorong
    manokwari merauke biak wamena jawa sulawesi maluku toraja manado kupang bali medan
    bandung yogyakarta jogja semarang kendari palu ternate fakfak kaimana agats asmat
    paniai enarotali puncak ilaga sugapa dogiyai deiyai mulia jaya baru barat timur utara
    selatan jauh irigasi cendrawasih yos sudarso budi utomo hasanuddin ahmad yani sam
    ratulangi
    """
)

# Words that are place names only when they follow a place word; "baru" alone means "new".
AMBIGUOUS_PLACES: frozenset[str] = word_set(
    """
    baru barat timur utara selatan jauh tengah jaya
    """
)

# Destinations that mean the citizen moves INTO Mimika ("pindah ke timika").
LOCAL_PLACES: frozenset[str] = word_set(
    """
    timika mimika sini kwamki kuala tembagapura wania iwaka sp
    """
)
