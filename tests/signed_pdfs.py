"""PDFs made inside the tests: scans (a page image as a PDF), scans with an OCR layer, and PDFs
digitally signed with a throwaway self-signed certificate (cryptography + pyHanko), with a visible
signature box the way Vietnamese signing software draws it ("Ky boi: …", "Thoi gian ky: …").

The signer is a generated organisation; the box text is ASCII because pyHanko's built-in font has
no Vietnamese glyphs (what matters to sohoa is where the text sits, not its letters).
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import img2pdf
from PIL import Image

from pipeline.ocr.tesseract import ocr_image
from pipeline.publish.pdfout import PagePart, build_pdf
from tests.pages import LINES, save, text_page

SIGNER = "Uy ban nhan dan xa Hoa An"  # generated, like every person and body in the tests
ORGANISATION = "UBND huyen Tan Phu"
BOX_TEXT = ("Ky boi: %(signer)s\nCo quan: UBND huyen Tan Phu, tinh Lam Dong\n"
            "Thoi gian ky: %(ts)s\nTRUNG TAM CONG BAO VA TIN HOC")


def page_image(tmp: Path, lines: list[str] = LINES, repeat: int = 3, name: str = "page.jpg") -> Path:
    """A 300 dpi A4 page of generated Vietnamese text, as a JPEG."""
    return save(text_page(lines, repeat=repeat), tmp / name, quality=90)


def scan_pdf(tmp: Path, name: str = "scan.pdf", repeat: int = 3) -> Path:
    """A scan as offices send it: one page-sized image, no text."""
    jpeg = page_image(tmp, repeat=repeat, name=f"{Path(name).stem}.jpg")
    out = tmp / name
    out.write_bytes(img2pdf.convert(str(jpeg), layout_fun=img2pdf.get_fixed_dpi_layout_fun((300, 300))))
    return out


def scan_with_ocr_layer(tmp: Path, lang: str, name: str) -> Path:
    """A scan carrying a scanner's own OCR layer: invisible Tesseract text in `lang` over the image.
    `eng` on a Vietnamese page gives the broken layer real scanners produce ("Vé viéc cap giay")."""
    jpeg = page_image(tmp, name=f"{Path(name).stem}.jpg")
    with Image.open(jpeg) as img:
        import numpy as np

        pixels = np.asarray(img.convert("L"))
    result = ocr_image(pixels, 300, tmp, Path(name).stem, lang=lang, psm=3, timeout_s=180)
    assert result.textlayer_pdf is not None, result.error
    return build_pdf([PagePart(jpeg=jpeg, dpi=300, textlayer=result.textlayer_pdf)], tmp / name, {})


def throwaway_signer(common_name: str = SIGNER, organisation: str = ORGANISATION):
    """A pyHanko signer with a fresh RSA key and a self-signed certificate, valid for a day."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn1_key = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return signers.SimpleSigner(signing_cert=asn1_cert, signing_key=asn1_key,
                                cert_registry=SimpleCertificateStore.from_certs([asn1_cert]))


def sign_pdf(src: Path, out: Path, signer=None, field: str = "Signature1",
             box: tuple[int, int, int, int] = (360, 760, 585, 835)) -> Path:
    """`src` signed (incrementally) with a visible signature box on its first page, written to `out`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.text import TextBoxStyle
        from pyhanko.sign import fields, signers
        from pyhanko.stamp import TextStampStyle

    signer = signer or throwaway_signer()
    style = TextStampStyle(stamp_text=BOX_TEXT, text_box_style=TextBoxStyle(font_size=7), border_width=1)
    meta = signers.PdfSignatureMetadata(field_name=field, location="Lam Dong", reason="Ban hanh van ban")
    with open(src, "rb") as inf, open(out, "wb") as outf:
        writer = IncrementalPdfFileWriter(inf, strict=False)
        spec = fields.SigFieldSpec(field, on_page=0, box=box)
        signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=spec).sign_pdf(writer, output=outf)
    return out


def verify(data: bytes) -> list:
    """pyHanko's status of every signature in the PDF bytes `data` (no trust roots, nothing fetched)."""
    import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return [validate_pdf_signature(sig, signer_validation_context=ValidationContext(trust_roots=[],
                                                                                    allow_fetching=False))
            for sig in reader.embedded_regular_signatures]
