"""bench/real.py's OCR cache is keyed by the code that made it: a cache filled by another checkout (older
cleaning, another Tesseract wrapper) is made again, not read as this checkout's."""

from __future__ import annotations

from bench.real import code_version


def test_code_version_follows_the_source_files(tmp_path):
    (tmp_path / "imaging").mkdir()
    (tmp_path / "imaging" / "clean.py").write_text("A = 1\n")
    (tmp_path / "tesseract.py").write_text("B = 1\n")
    paths = ("imaging", "tesseract.py", "missing.py")
    first = code_version(paths, tmp_path)
    assert code_version(paths, tmp_path) == first
    (tmp_path / "imaging" / "notes.txt").write_text("not code")
    assert code_version(paths, tmp_path) == first
    (tmp_path / "imaging" / "clean.py").write_text("A = 2\n")
    changed = code_version(paths, tmp_path)
    assert changed != first
    (tmp_path / "imaging" / "new.py").write_text("")
    added = code_version(paths, tmp_path)
    assert added != changed
    (tmp_path / "tesseract.py").write_text("B = 2\n")
    assert code_version(paths, tmp_path) != added
