"""The document taxonomy: which component types sohoa recognises, read from `config/taxonomy.yaml`.

Staff edit this file by hand, so it is validated on load and every problem is reported with the
file and the entry at fault. `Taxonomy.fingerprint` identifies the content (not the formatting or
comments): a trained classifier is versioned against it and must be retrained when it changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError
from pipeline.settings import default_config_text
from pipeline.textnorm import fold, nfc, squash

FALLBACK = "khac"
PACKAGED = "config/taxonomy.yaml"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_HINT = "Fix the entry in the taxonomy file (see the comments at its top)"


@dataclass(frozen=True)
class DocType:
    """One component type. Titles and cues are NFC; matching folds tones itself."""

    code: str
    name: str
    description: str = ""
    titles: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    ky_hieu: tuple[str, ...] = ()  # abbreviations in a document number ("QĐ" in "Số: 12/QĐ-UBND")


@dataclass(frozen=True)
class Taxonomy:
    """The validated list of types, in file order (`khac` included), plus where it came from."""

    types: list[DocType]
    source: str = PACKAGED
    version: int = 1
    _by_code: dict[str, DocType] = field(init=False, repr=False, compare=False)
    _fingerprint: str = field(init=False, repr=False, compare=False)
    _by_abbreviation: dict[str, DocType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {t.code: t for t in self.types})
        exact = {_abbr_key(k): t for t in self.types for k in t.ky_hieu}
        folded: dict[str, list[DocType]] = {}
        for key, t in exact.items():
            folded.setdefault("~" + fold(key), []).append(t)
        exact.update({k: ts[0] for k, ts in folded.items() if len(ts) == 1})
        object.__setattr__(self, "_by_abbreviation", exact)
        object.__setattr__(self, "_fingerprint", self._digest())

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def get(self, code: str) -> DocType | None:
        """The type with this code, or None when the taxonomy has no such code."""
        return self._by_code.get(code)

    def by_ky_hieu(self, abbreviation: str) -> DocType | None:
        """The type whose number abbreviation this is ("QĐ", "TTr"; case ignored). OCR often drops the
        bar of Đ: "QD" is QĐ too, as long as only one type's abbreviation folds to it (HD: HĐ or HD?)."""
        key = _abbr_key(abbreviation)
        return self._by_abbreviation.get(key) or self._by_abbreviation.get("~" + fold(key))

    def name(self, code: str) -> str:
        """Vietnamese name of a type; an unknown code (e.g. from an older model) is returned as is."""
        t = self._by_code.get(code)
        return t.name if t else code

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.types]

    @property
    def fingerprint(self) -> str:
        """sha256 of the normalised content (order kept: a model's label indices follow it)."""
        return self._fingerprint

    def _digest(self) -> str:
        content = {
            "version": self.version,
            "types": [
                {"code": t.code, "name": t.name, "description": t.description,
                 "titles": list(t.titles), "cues": list(t.cues),
                 **({"ky_hieu": list(t.ky_hieu)} if t.ky_hieu else {})}
                for t in self.types
            ],
        }
        blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _abbr_key(abbreviation: str) -> str:
    """An abbreviation compared upper-case, Đ kept (HĐ hợp đồng is not HD hướng dẫn)."""
    return nfc(abbreviation).replace(" ", "").upper()


def _text(value: Any) -> str:
    return squash(nfc(value)) if isinstance(value, str) else ""


def _strings(value: Any, what: str, where: str, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: `{what}` must be a list of strings", path=path, hint=_HINT)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _text(item):
            raise ConfigError(f"{where}: `{what}` entry {item!r} must be a non-empty string", path=path, hint=_HINT)
        out.append(_text(item))
    return tuple(out)


def parse_taxonomy(text: str, source: str = PACKAGED) -> Taxonomy:
    """Validate taxonomy YAML text; `source` is only used in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})".replace("\n", " "), path=source, hint=_HINT) from exc
    if not isinstance(data, dict) or not isinstance(data.get("types"), list):
        raise ConfigError("must be a mapping with a `types:` list", path=source, hint=_HINT)
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"`version` must be an integer, not {version!r}", path=source, hint=_HINT)
    types: list[DocType] = []
    seen: set[str] = set()
    abbreviations: dict[str, str] = {}
    for i, entry in enumerate(data["types"], start=1):
        where = f"type #{i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping with code, name, titles", path=source, hint=_HINT)
        code = entry.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise ConfigError(f"{where}: code {code!r} must be lower-case ASCII (a-z, 0-9, _)",
                              path=source, hint=_HINT)
        where = f"type #{i} ({code})"
        if code in seen:
            raise ConfigError(f"{where}: code is used twice", path=source, hint="Give each type its own code")
        seen.add(code)
        name = _text(entry.get("name"))
        if not name:
            raise ConfigError(f"{where}: `name` must be a non-empty string", path=source, hint=_HINT)
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise ConfigError(f"{where}: `description` must be a string", path=source, hint=_HINT)
        titles = _strings(entry.get("titles"), "titles", where, source)
        cues = _strings(entry.get("cues"), "cues", where, source)
        ky_hieu = _strings(entry.get("ky_hieu"), "ky_hieu", where, source)
        for abbreviation in ky_hieu:
            key = _abbr_key(abbreviation)
            if not fold(key).isalnum() or not fold(key).isascii():
                raise ConfigError(f"{where}: `ky_hieu` {abbreviation!r} must be letters only (\"QĐ\", \"TTr\")",
                                  path=source, hint=_HINT)
            if key in abbreviations:
                raise ConfigError(f"{where}: `ky_hieu` {abbreviation!r} is also type {abbreviations[key]}'s",
                                  path=source, hint="Give each abbreviation to one type")
            abbreviations[key] = code
        types.append(DocType(code, name, _text(description), titles, cues, ky_hieu))
    if FALLBACK not in seen:
        raise ConfigError(f"the fallback type `{FALLBACK}` is missing", path=source,
                          hint="Add `- code: khac` (Tài liệu khác) as the last type")
    return Taxonomy(types=types, source=source, version=version)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file; without a path, the packaged `config/taxonomy.yaml`."""
    if path is None:
        return parse_taxonomy(default_config_text("taxonomy.yaml"), PACKAGED)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("taxonomy file not found", path=path,
                          hint="Check the `taxonomy` setting (SOHOA_TAXONOMY)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read taxonomy file ({exc})", path=path,
                          hint="Save it as UTF-8 text") from exc
    return parse_taxonomy(text, str(path))
