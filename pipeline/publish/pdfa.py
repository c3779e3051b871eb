"""PDF/A-2b (ISO 19005-2, Vietnam's TCVN 14159) for the PDFs sohoa writes: what it adds and how it is checked.

Added to a document: XMP metadata with `pdfaid:part=2, conformance=B`, Dublin Core (title, type,
issuing body, date, description, identifier, language) and the archival record's fields that
Thông tư 05/2025/TT-BNV asks of a digitised document where they are known (mã hồ sơ, tên loại văn
bản, số và ký hiệu, ngày văn bản, cơ quan ban hành, trích yếu nội dung, ngôn ngữ, số trang), in the
`hoso:` namespace described by a PDF/A extension schema (PDF/A allows no undeclared property); an
sRGB output intent (the ICC profile made by LittleCMS through Pillow, nothing downloaded); the file
identifier in the trailer; an Info dictionary equal to its XMP counterparts. No timestamp: the same
pages and fields give the same bytes, which the reuse check (`pipeline.publish.reuse`) relies on.

`problems()` checks a written PDF against each PDF/A-2b rule sohoa relies on (no validator such as
veraPDF installs here offline): header and binary comment, trailer ID, no encryption, XMP present,
parseable and claiming part 2 B with its Info twins equal, an output intent with an RGB ICC profile,
every font embedded, no JavaScript, actions, embedded files, LZW or transparency groups, image
XObjects without alternates or interpolation.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

PDF_HEADER = b"%PDF-1.7"  # PDF/A-2 is based on ISO 32000-1 (PDF 1.7)
PRODUCER = "sohoa (pypdf)"
HOSO_NS = "https://sohoa.example/ns/hoso/1.0/"
# (property, XMP value type, what it is: the field of TT 05/2025/TT-BNV)
HOSO_FIELDS = [
    ("maHoSo", "Text", "Mã hồ sơ"),
    ("maThanhPhan", "Text", "Mã thành phần hồ sơ (văn bản trong hồ sơ)"),
    ("tenLoaiVanBan", "Text", "Tên loại văn bản"),
    ("maLoaiVanBan", "Text", "Mã loại văn bản (sohoa)"),
    ("soKyHieu", "Text", "Số và ký hiệu văn bản"),
    ("ngayVanBan", "Text", "Ngày, tháng, năm văn bản (YYYY-MM-DD)"),
    ("coQuanBanHanh", "Text", "Tên cơ quan, tổ chức ban hành văn bản"),
    ("trichYeu", "Text", "Trích yếu nội dung"),
    ("ngonNgu", "Text", "Ngôn ngữ"),
    ("soTrang", "Integer", "Số trang"),
    ("hinhThuc", "Text", "Hình thức số hóa"),
]


@dataclass(frozen=True)
class ArchivalRecord:
    """What is known of one document for its archival metadata; None: not known (left out)."""

    title: str
    dossier_id: str
    component_id: str | None = None
    type_code: str | None = None
    type_name: str | None = None
    ma_ho_so: str | None = None
    so_ky_hieu: str | None = None
    ngay: str | None = None  # YYYY-MM-DD
    co_quan: str | None = None
    trich_yeu: str | None = None
    pages: int | None = None
    language: str = "vi"
    keywords: list[str] = field(default_factory=list)

    def hoso(self) -> dict[str, str]:
        values = {
            "maHoSo": self.ma_ho_so or self.dossier_id, "maThanhPhan": self.component_id,
            "tenLoaiVanBan": self.type_name, "maLoaiVanBan": self.type_code, "soKyHieu": self.so_ky_hieu,
            "ngayVanBan": self.ngay, "coQuanBanHanh": self.co_quan, "trichYeu": self.trich_yeu,
            "ngonNgu": self.language, "soTrang": str(self.pages) if self.pages else None,
            "hinhThuc": "Số hóa từ bản giấy (ảnh quét, OCR)",
        }
        return {k: v for k, v in values.items() if v}

    def info(self) -> dict[str, str]:
        """The Info dictionary, each entry equal to its XMP twin (PDF/A-2 6.6.3)."""
        out = {"/Title": self.title, "/Creator": "sohoa", "/Producer": PRODUCER}
        if self.co_quan:
            out["/Author"] = self.co_quan
        if self.type_name:
            out["/Subject"] = self.type_name
        if self.keywords:
            out["/Keywords"] = ", ".join(self.keywords)
        return out


def archival_record(dossier_id: str, component_id: str, type_code: str, type_name: str, meta: object,
                    pages: int) -> ArchivalRecord:
    """The PDF/A metadata of one component: what the dossier and the extracted fields say."""
    def known(name: str) -> str | None:
        return getattr(meta, name, None) or None

    return ArchivalRecord(
        title=f"{type_name} — {dossier_id}", dossier_id=dossier_id, component_id=component_id, type_code=type_code,
        type_name=type_name, ma_ho_so=known("ma_ho_so"), so_ky_hieu=known("so_ky_hieu"), ngay=known("ngay"),
        co_quan=known("co_quan"), trich_yeu=known("trich_yeu"), pages=pages, keywords=[dossier_id, type_code],
    )


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in, through Pillow): the output intent's."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _t(x: str) -> str:
    return escape(x, {'"': "&quot;"})


def xmp(record: ArchivalRecord, document_id: str) -> bytes:
    """The XMP packet (UTF-8) for `record`."""
    info = record.info()
    dc = [f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_t(record.title)}</rdf:li></rdf:Alt></dc:title>',
          "<dc:format>application/pdf</dc:format>",
          f"<dc:identifier>{_t(record.component_id or record.dossier_id)}</dc:identifier>",
          f"<dc:language><rdf:Bag><rdf:li>{_t(record.language)}</rdf:li></rdf:Bag></dc:language>"]
    if record.co_quan:
        dc.append(f"<dc:creator><rdf:Seq><rdf:li>{_t(record.co_quan)}</rdf:li></rdf:Seq></dc:creator>")
    if "/Subject" in info:
        dc.append(f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_t(info["/Subject"])}</rdf:li>'
                  "</rdf:Alt></dc:description>")
    if record.type_name:
        dc.append(f"<dc:type><rdf:Bag><rdf:li>{_t(record.type_name)}</rdf:li></rdf:Bag></dc:type>")
    if record.ngay:
        dc.append(f"<dc:date><rdf:Seq><rdf:li>{_t(record.ngay)}</rdf:li></rdf:Seq></dc:date>")
    pdf = [f"<pdf:Producer>{_t(PRODUCER)}</pdf:Producer>"]
    if "/Keywords" in info:
        pdf.append(f"<pdf:Keywords>{_t(info['/Keywords'])}</pdf:Keywords>")
    hoso = "".join(f"<hoso:{k}>{_t(v)}</hoso:{k}>" for k, v in record.hoso().items())
    props = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name><pdfaProperty:valueType>{vtype}</pdfaProperty:valueType>"
        f"<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{_t(desc)}</pdfaProperty:description></rdf:li>"
        for name, vtype, desc in HOSO_FIELDS)
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">{"".join(dc)}</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:CreatorTool>sohoa</xmp:CreatorTool></rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">{"".join(pdf)}</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"><xmpMM:DocumentID>uuid:{document_id}</xmpMM:DocumentID></rdf:Description>
<rdf:Description rdf:about="" xmlns:hoso="{HOSO_NS}">{hoso}</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Hồ sơ lưu trữ số (Thông tư 05/2025/TT-BNV)</pdfaSchema:schema>
<pdfaSchema:namespaceURI>{HOSO_NS}</pdfaSchema:namespaceURI><pdfaSchema:prefix>hoso</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>{props}</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return body.encode("utf-8")


def make_archival(writer: PdfWriter, record: ArchivalRecord, fingerprint: bytes) -> None:
    """Turn `writer` into PDF/A-2b: header, Info, XMP, output intent, file ID. `fingerprint`: what
    makes this document itself (its page contents), for a reproducible ID."""
    writer.pdf_header = PDF_HEADER
    digest = hashlib.sha256(fingerprint + record.title.encode()).digest()
    doc_id = digest[:16]
    uuid = doc_id.hex()
    uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    writer.add_metadata({k: TextStringObject(v) for k, v in record.info().items()})
    meta = DecodedStreamObject()
    meta.set_data(xmp(record, uuid))  # not compressed: readable by any archive tool
    meta.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(meta)  # noqa: SLF001
    raw_icc = DecodedStreamObject()
    raw_icc.set_data(srgb_profile())
    icc = raw_icc.flate_encode()
    icc[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"), NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/DestOutputProfile"): writer._add_object(icc),  # noqa: SLF001
    })
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])  # noqa: SLF001
    writer._ID = ArrayObject([ByteStringObject(doc_id), ByteStringObject(doc_id)])  # noqa: SLF001


# --------------------------------------------------------------------------------------------
# Checking a written file, rule by rule

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
_FORBIDDEN_KEYS = ("/JavaScript", "/JS", "/AA", "/EmbeddedFiles")


def xmp_fields(data: bytes) -> dict[str, str]:
    """Simple XMP properties as {'{ns}name': text}, for checks and tests (first rdf:li of a container)."""
    root = ElementTree.fromstring(data.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0])
    out: dict[str, str] = {}
    for desc in root.iter(f"{_RDF}Description"):
        for prop in desc:
            li = prop.find(f".//{_RDF}li")
            text = li.text if li is not None and len(li) == 0 else prop.text
            if text and text.strip():
                out.setdefault(prop.tag, text.strip())
    return out


def _walk(obj, seen: set[int], found: list[str], path: str = "") -> None:
    """Visit every dictionary reachable from `obj` and note forbidden keys and unembedded fonts."""
    if hasattr(obj, "idnum"):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        for key in _FORBIDDEN_KEYS:
            if key in obj:
                found.append(f"{key} present ({path or 'catalog'})")
        if obj.get("/S") == "/JavaScript":
            found.append("a JavaScript action")
        if obj.get("/Type") == "/Font" and obj.get("/Subtype") in ("/Type1", "/TrueType", "/MMType1"):
            desc = obj.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                found.append(f"font {obj.get('/BaseFont')} not embedded")
        if obj.get("/Type") == "/Font" and obj.get("/Subtype") == "/Type0":
            for d in obj["/DescendantFonts"]:
                desc = d.get_object().get("/FontDescriptor")
                desc = desc.get_object() if desc is not None else {}
                if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.append(f"font {obj.get('/BaseFont')} not embedded")
        if obj.get("/Subtype") == "/Image" and ("/Alternates" in obj or obj.get("/Interpolate") is True):
            found.append("an image with /Alternates or /Interpolate true")
        if obj.get("/S") == "/Transparency" and obj.get("/Type") == "/Group":
            pass  # allowed in PDF/A-2 (with an output intent, which is checked)
        filters = obj.get("/Filter")
        if filters is not None and "/LZWDecode" in (filters if isinstance(filters, list) else [filters]):
            found.append("an LZW-compressed stream")
        for key, value in obj.items():
            if key not in ("/Parent", "/P"):
                _walk(value, seen, found, f"{path}{key}")
    elif isinstance(obj, list):
        for item in obj:
            _walk(item, seen, found, path)


def problems(path: Path) -> list[str]:
    """What keeps the PDF at `path` from PDF/A-2b, among the rules listed in the module docstring."""
    found: list[str] = []
    raw = Path(path).read_bytes()
    if not re.match(rb"%PDF-1\.[0-7]\r?\n%[\x80-\xff]{4}", raw[:20]):
        found.append("header is not %PDF-1.x followed by a binary comment")
    reader = PdfReader(path)
    if reader.is_encrypted:
        return [*found, "encrypted"]
    trailer = reader.trailer
    ids = trailer.get("/ID")
    if not ids or len(ids) != 2:
        found.append("no file identifier (/ID) in the trailer")
    root = reader.trailer["/Root"].get_object()
    meta = root.get("/Metadata")
    if meta is None:
        found.append("no XMP metadata")
    else:
        stream = meta.get_object()
        if "/Filter" in stream:
            found.append("XMP metadata stream is compressed")
        try:
            fields = xmp_fields(stream.get_data())
        except ElementTree.ParseError as exc:
            fields = {}
            found.append(f"XMP does not parse ({exc})")
        if fields.get(f"{_PDFAID}part") != "2" or fields.get(f"{_PDFAID}conformance") != "B":
            found.append("XMP does not claim PDF/A-2B (pdfaid:part 2, conformance B)")
        twins = {"/Title": "{http://purl.org/dc/elements/1.1/}title",
                 "/Author": "{http://purl.org/dc/elements/1.1/}creator",
                 "/Subject": "{http://purl.org/dc/elements/1.1/}description",
                 "/Keywords": "{http://ns.adobe.com/pdf/1.3/}Keywords",
                 "/Producer": "{http://ns.adobe.com/pdf/1.3/}Producer",
                 "/Creator": "{http://ns.adobe.com/xap/1.0/}CreatorTool"}
        info = reader.metadata or {}
        for key, tag in twins.items():
            if key in info and str(info[key]) != fields.get(tag):
                found.append(f"Info {key} differs from its XMP twin")
        for key in ("/CreationDate", "/ModDate"):
            if key in info:
                found.append(f"Info {key} without the XMP date checked here")
    intents = root.get("/OutputIntents")
    ok_intent = False
    for intent in intents.get_object() if intents is not None else []:
        intent = intent.get_object()
        profile = intent.get("/DestOutputProfile")
        if intent.get("/S") == "/GTS_PDFA1" and profile is not None:
            data = profile.get_object().get_data()
            ok_intent = data[36:40] == b"acsp" and data[16:20] == b"RGB "
    if not ok_intent:
        found.append("no GTS_PDFA1 output intent with an RGB ICC profile")
    if "/OpenAction" in root or "/Names" in root and "/JavaScript" in root["/Names"].get_object():
        found.append("an OpenAction or document JavaScript")
    _walk(reader.trailer["/Root"], set(), found)
    return found
