"""The taxonomy loads, validates hand edits with errors a clerk can act on, and has a stable fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import default_config_text
from pipeline.understand.taxonomy import DocType, Taxonomy, load_taxonomy, parse_taxonomy

PACKAGED = default_config_text("taxonomy.yaml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_taxonomy_loads():
    tx = load_taxonomy()
    codes = [t.code for t in tx.types]
    assert len(codes) == len(set(codes)) >= 20
    assert codes[-1] == "khac"
    assert {"quyet_dinh", "hop_dong", "can_cuoc", "giay_chung_nhan_qsdd", "phieu_tiep_nhan"} <= set(codes)
    assert all(isinstance(t, DocType) and t.name for t in tx.types)
    assert tx.get("quyet_dinh").titles == ("QUYẾT ĐỊNH",)
    assert tx.get("nope") is None
    assert tx.name("hop_dong") == "Hợp đồng"
    assert tx.name("unknown_code") == "unknown_code"
    assert tx.source == "config/taxonomy.yaml"


def test_load_from_path_equals_packaged(tmp_path):
    tx = load_taxonomy(write(tmp_path, PACKAGED))
    assert tx.fingerprint == load_taxonomy().fingerprint
    assert tx.source.endswith("taxonomy.yaml")


def test_fingerprint_ignores_comments_and_formatting_but_not_content(tmp_path):
    base = load_taxonomy().fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    reformatted = "# another comment\n" + PACKAGED.replace("types:", "types:   # the list")
    assert load_taxonomy(write(tmp_path, reformatted)).fingerprint == base
    changed = PACKAGED.replace('titles: ["QUYẾT ĐỊNH"]', 'titles: ["QUYẾT ĐỊNH", "QUYẾT ĐỊNH CHUẨN Y"]')
    assert changed != PACKAGED
    assert load_taxonomy(write(tmp_path, changed)).fingerprint != base


def test_fingerprint_follows_the_order_of_types():
    """A model's label indices follow the taxonomy's order: reordering is a new taxonomy."""
    a = "types:\n  - {code: don, name: Đơn, titles: [ĐƠN], cues: []}\n  - {code: khac, name: Khác, titles: [], cues: []}\n"
    b = "types:\n  - {code: khac, name: Khác, titles: [], cues: []}\n  - {code: don, name: Đơn, titles: [ĐƠN], cues: []}\n"
    assert parse_taxonomy(a).fingerprint == parse_taxonomy(a).fingerprint
    assert parse_taxonomy(a).fingerprint != parse_taxonomy(b).fingerprint


def test_titles_are_nfc_and_d_with_stroke_fixed():
    tx = parse_taxonomy(
        "types:\n"
        "  - {code: don, name: Đơn, titles: ['\u00d0ON XIN', 'ÐƠN  ĐỀ NGHỊ'], cues: ['kính gửi']}\n"
        "  - {code: khac, name: Khác, titles: [], cues: []}\n"
    )
    assert tx.get("don").titles == ("ĐON XIN", "ĐƠN ĐỀ NGHỊ")


def test_types_is_a_list_and_taxonomy_is_constructible():
    tx = Taxonomy(types=[DocType("khac", "Khác")])
    assert tx.get("khac").name == "Khác" and tx.codes == ["khac"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("types:\n  - {code: a, name: A}\n  - {code: a, name: B}\n  - {code: khac, name: K}\n", "type #2 (a)"),
        ("types:\n  - {code: a, name: A}\n", "khac"),
        ("types:\n  - {code: a, name: ''}\n  - {code: khac, name: K}\n", "type #1 (a)"),
        ("types:\n  - {code: a, name: A, titles: [1]}\n  - {code: khac, name: K}\n", "type #1 (a)"),
        ("types:\n  - {code: a, name: A, titles: QUYẾT ĐỊNH}\n  - {code: khac, name: K}\n", "titles"),
        ("types:\n  - {code: a, name: A, cues: ['']}\n  - {code: khac, name: K}\n", "cues"),
        ("types:\n  - {code: Bad Code, name: A}\n  - {code: khac, name: K}\n", "type #1"),
        ("types:\n  - just a string\n  - {code: khac, name: K}\n", "type #1"),
        ("version: one\ntypes: []\n", "version"),
        ("types: {a: 1}\n", "types"),
        ("types: [\n", "YAML"),
        ("", "types"),
    ],
)
def test_invalid_taxonomy_names_file_and_entry(tmp_path, body, needle):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_taxonomy(path)
    message = str(err.value)
    assert str(path) in message
    assert needle in message
    assert "\n" not in message


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_taxonomy(tmp_path / "missing.yaml")
