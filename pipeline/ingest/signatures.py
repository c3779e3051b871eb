"""Digital signatures (ký số) embedded in a PDF, read with pyHanko.

Nearly every document a Vietnamese office issues today is a PDF signed by the issuing body (and
often countersigned by the office that publishes it). The signature is what gives the file legal
force, so sohoa records it and stores the signed file byte for byte (`pipeline.digitise.dossier`).

For each signature: who signed (the certificate's common name and organisation), when (the time
the signing software wrote in the signature dictionary, `/M`, with its UTC offset; the CMS
signing-time attribute when there is no `/M`; and the time of an RFC 3161 timestamp token when
one is embedded), whether the signed bytes still hash to the signed digest (`intact`), whether the
signed byte range covers the whole file (`covers_whole_file`) and, when it does not, what was
added after signing (`later_changes`: a later signature is `form_filling`).

Trust in the certificate chain is not judged: no root certificates are configured and nothing is
fetched from the network (the chains of Vietnamese government CAs are not in any public trust
store). Reading never fails a dossier: a signature pyHanko cannot parse is recorded with its
`error`.
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime
from pathlib import Path

from pipeline.manifest import Signature
from pipeline.textnorm import nfc

# pyHanko logs a traceback for every certificate path it cannot build; with no trust roots
# configured that is every signature, on purpose, so only real errors are let through.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def _quiet_import() -> None:
    """Import pyHanko once with its import-time deprecation warnings (DSA in `cryptography`) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyhanko.sign.validation  # noqa: F401


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _subject(cert) -> tuple[str | None, str | None]:
    """(common name, organisation) of a certificate's subject; organisation falls back to the OU."""
    try:
        native = cert.subject.native
    except Exception:  # noqa: BLE001
        return None, None

    def first(key: str) -> str | None:
        value = native.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return nfc(str(value)).strip() or None if value else None

    org = first("organization_name")
    unit = first("organizational_unit_name")
    organisation = ", ".join(x for x in (unit, org) if x) or None
    return first("common_name"), organisation


def _declared_time(sig) -> datetime | None:
    """The `/M` entry of the signature dictionary: the signing software's clock, with its offset."""
    from pyhanko.pdf_utils import generic

    raw = sig.sig_object.get("/M")
    if raw is None:
        return None
    try:
        return generic.parse_pdf_date(raw, strict=False)
    except Exception:  # noqa: BLE001
        return None


def _read_one(sig, file_name: str, pages: list[int]) -> Signature:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts
    from pyhanko_certvalidator import ValidationContext

    field = str(sig.field_name or "")
    try:
        signer, organisation = _subject(sig.signer_cert)
        cms_time = extract_self_reported_ts(sig.signer_info)
        declared = _declared_time(sig)
        context = ValidationContext(trust_roots=[], allow_fetching=False)
        status = validate_pdf_signature(sig, signer_validation_context=context)
        tst = status.timestamp_validity
        level = status.modification_level
        return Signature(
            file=file_name, field=field, signer=signer, organisation=organisation,
            signed_at=_iso(declared or cms_time), signing_time_cms=_iso(cms_time),
            timestamp=_iso(tst.timestamp) if tst is not None else None,
            intact=bool(status.intact), valid=bool(status.valid),
            covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
            later_changes=level.name.lower() if level is not None else None,
            pages=pages,
        )
    except Exception as exc:  # noqa: BLE001 - a malformed signature is recorded, never fatal
        return Signature(file=file_name, field=field, intact=False, valid=False, covers_whole_file=False,
                         pages=pages, error=f"{exc.__class__.__name__}: {exc}"[:300])


def may_be_signed(path: Path) -> bool:
    """False when the PDF's form has no filled signature field (read with pypdf, ~1 ms), so pyHanko
    (~0.6 s of CPU to import) is loaded only for a PDF that may carry a signature; True when unsure."""
    from pypdf import PdfReader

    try:
        form = PdfReader(path, strict=False).trailer["/Root"].get("/AcroForm")
        if form is None:
            return False
        todo = [(f, None) for f in form.get_object().get("/Fields", [])]
        seen = 0
        while todo and seen < 10_000:
            ref, inherited = todo.pop()
            seen += 1
            field = ref.get_object()
            kind = field.get("/FT", inherited)
            if kind == "/Sig" and field.get("/V") is not None:
                return True
            todo.extend((kid, kind) for kid in field.get("/Kids", []))
        return bool(todo)
    except Exception:  # noqa: BLE001 - a PDF pypdf cannot read this way: let pyHanko look
        return True


def read_signatures(path: Path, pages: list[int] | None = None) -> list[Signature]:
    """The signatures of the PDF at `path`, in file order (oldest first); [] for an unsigned or
    unreadable PDF. `pages` are the dossier page numbers of this file, copied into each record."""
    if not may_be_signed(path):
        return []
    _quiet_import()
    from pyhanko.pdf_utils.reader import PdfFileReader

    pages = list(pages or [])
    try:
        with open(path, "rb") as fh:
            reader = PdfFileReader(fh, strict=False)
            found = list(reader.embedded_regular_signatures)
            return [_read_one(sig, path.name, pages) for sig in found]
    except Exception:  # noqa: BLE001 - an unreadable PDF has already been reported by the page step
        return []


def dossier_signatures(files: list[Path], pages_of: dict[Path, list[int]]) -> list[Signature]:
    """The signatures of every PDF of a dossier, file by file; `pages_of` maps a file to its dossier pages."""
    out: list[Signature] = []
    for file in files:
        if _is_pdf(file):
            out.extend(read_signatures(file, pages_of.get(file, [])))
    return out


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"%PDF-" in fh.read(1024)
    except OSError:
        return False


def earliest(signatures: list[Signature]) -> str | None:
    """The earliest signing time among `signatures` (ISO 8601), or None."""
    times = []
    for sig in signatures:
        if sig.signed_at:
            try:
                times.append((datetime.fromisoformat(sig.signed_at), sig.signed_at))
            except ValueError:
                continue
    if not times:
        return None
    try:
        return min(times)[1]
    except TypeError:  # naive and aware times mixed
        return sorted(t[1] for t in times)[0]


def has_signature_fields(path: Path) -> bool:
    """True when the PDF has at least one filled signature field (cheap: no validation)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        with open(path, "rb") as fh:
            return bool(PdfFileReader(fh, strict=False).embedded_regular_signatures)
    except Exception:  # noqa: BLE001
        return False
