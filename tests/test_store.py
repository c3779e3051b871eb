"""Object store contract, run against every backend (only `local` today; S3 joins the `store` fixture).

Tests on real folders under tmp_path; the local-only tests at the end check the on-disk layout.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.store import InvalidKey, LocalStore, ObjectNotFound, ObjectStore, open_store
from pipeline.store.base import RESERVED_PREFIX, validate_key

BUCKET = "sohoa-test"


def _local(tmp_path: Path) -> ObjectStore:
    return LocalStore(tmp_path / "store", BUCKET)


# An S3 backend adds an entry here (skipping itself when no endpoint is configured).
BACKENDS: dict[str, Callable[[Path], ObjectStore]] = {"local": _local}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return BACKENDS[request.param](tmp_path)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- contract: every backend --------------------------------------------------------------------


def test_bytes_round_trip(store: ObjectStore) -> None:
    data = b"%PDF-1.7\n" + os.urandom(5000)
    info = store.put_bytes("hs/HS001/quyet-dinh.pdf", data)
    assert info.key == "hs/HS001/quyet-dinh.pdf"
    assert info.size == len(data)
    assert info.sha256 == sha(data)
    assert info.content_type == "application/pdf"  # guessed from the extension
    assert store.get_bytes("hs/HS001/quyet-dinh.pdf") == data
    assert store.exists("hs/HS001/quyet-dinh.pdf")
    assert not store.exists("hs/HS001/other.pdf")


def test_empty_object(store: ObjectStore) -> None:
    info = store.put_bytes("empty.bin", b"")
    assert info.size == 0 and info.sha256 == sha(b"")
    assert store.get_bytes("empty.bin") == b""


def test_file_round_trip_streaming(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "nguồn vào.pdf"
    data = os.urandom(3 * 1024 * 1024 + 17)  # several write chunks
    src.write_bytes(data)
    info = store.put_file("hồ sơ/HS002/đơn đề nghị.pdf", src, content_type="application/pdf")
    assert info.size == len(data) and info.sha256 == sha(data)

    with store.open("hồ sơ/HS002/đơn đề nghị.pdf") as stream:
        parts = []
        while chunk := stream.read(65536):
            parts.append(chunk)
    assert b"".join(parts) == data

    dest = tmp_path / "out" / "nested" / "copy.pdf"
    assert store.download("hồ sơ/HS002/đơn đề nghị.pdf", dest) == dest
    assert dest.read_bytes() == data
    assert [p.name for p in dest.parent.iterdir()] == ["copy.pdf"]  # no temp left behind


def test_stat_and_vietnamese_metadata(store: ObjectStore) -> None:
    meta = {
        "dossier": "HS-2023-001",
        "type_name": "Quyết định giao đất",
        "co_quan": "UBND huyện Đông Anh",
        "Ho-Ten": "Nguyễn Thị Hoà",  # names are case-insensitive, stored lower-case (as S3 does)
    }
    data = "Hồ sơ đất đai".encode()
    put = store.put_bytes("meta/a.txt", data, content_type="text/plain; charset=utf-8", metadata=meta)
    info = store.stat("meta/a.txt")
    assert info == put
    assert info.size == len(data)
    assert info.sha256 == sha(data)
    assert info.content_type == "text/plain; charset=utf-8"
    assert dict(info.metadata) == {
        "dossier": "HS-2023-001",
        "type_name": "Quyết định giao đất",
        "co_quan": "UBND huyện Đông Anh",
        "ho-ten": "Nguyễn Thị Hoà",
    }
    assert info.modified is not None and info.modified.tzinfo is not None


def test_overwrite_replaces_content_and_metadata(store: ObjectStore) -> None:
    store.put_bytes("x/doc.pdf", b"old", metadata={"v": "1"})
    store.put_bytes("x/doc.pdf", b"new content", metadata={"v": "2"})
    assert store.get_bytes("x/doc.pdf") == b"new content"
    info = store.stat("x/doc.pdf")
    assert info.sha256 == sha(b"new content") and info.size == 11
    assert dict(info.metadata) == {"v": "2"}
    assert list(store.list("x/")) == ["x/doc.pdf"]


def test_open_reader_keeps_old_version_during_overwrite(store: ObjectStore) -> None:
    old = b"A" * 300_000
    store.put_bytes("k.bin", old)
    with store.open("k.bin") as reader:
        first = reader.read(1000)
        store.put_bytes("k.bin", b"B" * 200_000)
        rest = reader.read()
    assert first + rest == old
    assert store.get_bytes("k.bin") == b"B" * 200_000


def test_concurrent_overwrite_never_shows_partial_object(store: ObjectStore) -> None:
    versions = {sha(b"a" * 1_000_000): b"a", sha(b"b" * 700_000): b"b"}
    store.put_bytes("race.bin", b"a" * 1_000_000)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(30):
                store.put_bytes("race.bin", b"b" * 700_000 if i % 2 == 0 else b"a" * 1_000_000)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reads = 0
    while not stop.is_set() or reads == 0:
        data = store.get_bytes("race.bin")
        assert data in (b"a" * 1_000_000, b"b" * 700_000), f"partial read of {len(data)} bytes"
        info = store.stat("race.bin")
        assert info.sha256 in versions
        reads += 1
    thread.join()
    assert not errors
    assert list(store.list()) == ["race.bin"]


def test_list_by_prefix(store: ObjectStore) -> None:
    keys = ["a/1.pdf", "a/2.pdf", "a/sub/3.pdf", "ab/4.pdf", "b.json", "hồ sơ/đơn.pdf", "a-z.txt"]
    for key in keys:
        store.put_bytes(key, key.encode())
    assert list(store.list()) == sorted(keys, key=lambda k: k.encode())
    assert list(store.list("a/")) == ["a/1.pdf", "a/2.pdf", "a/sub/3.pdf"]
    assert list(store.list("a")) == ["a-z.txt", "a/1.pdf", "a/2.pdf", "a/sub/3.pdf", "ab/4.pdf"]
    assert list(store.list("a/s")) == ["a/sub/3.pdf"]
    assert list(store.list("hồ")) == ["hồ sơ/đơn.pdf"]
    assert list(store.list("zzz/")) == []
    assert list(store.list("a/1.pdf")) == ["a/1.pdf"]


def test_list_shows_only_real_objects(store: ObjectStore) -> None:
    for i in range(5):
        store.put_bytes(f"d/{i}.bin", b"x", metadata={"n": str(i)})
    store.put_bytes("d/0.bin", b"y")  # overwrite
    store.delete("d/3.bin")
    assert list(store.list()) == ["d/0.bin", "d/1.bin", "d/2.bin", "d/4.bin"]


def test_delete(store: ObjectStore) -> None:
    store.put_bytes("del/me.txt", b"x", metadata={"a": "b"})
    store.delete("del/me.txt")
    assert not store.exists("del/me.txt")
    assert list(store.list()) == []
    store.delete("del/me.txt")  # idempotent, as in S3
    store.put_bytes("del/me.txt", b"again")
    assert dict(store.stat("del/me.txt").metadata) == {}  # old metadata is gone


def test_missing_key_raises_object_not_found(store: ObjectStore, tmp_path: Path) -> None:
    for call in (
        lambda: store.get_bytes("nope.pdf"),
        lambda: store.stat("nope.pdf"),
        lambda: store.open("nope.pdf"),
        lambda: store.download("nope.pdf", tmp_path / "x.pdf"),
        lambda: store.get_bytes("missing/folder/file"),
    ):
        with pytest.raises(ObjectNotFound) as info:
            call()
        assert isinstance(info.value, KeyError)
        assert "nope.pdf" in str(info.value) or "missing/folder" in str(info.value)
    assert not (tmp_path / "x.pdf").exists()


def test_a_prefix_is_not_an_object(store: ObjectStore) -> None:
    store.put_bytes("dir/file.txt", b"x")
    assert not store.exists("dir")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("dir")


BAD_KEYS = [
    "",
    "../x",
    "/abs",
    "/etc/passwd",
    "a/../../b",
    "a/..",
    "..",
    "a/./b",
    ".",
    "a//b",
    "a/",
    "a\\b",
    "..\\..\\windows",
    "a\x00b",
    "a\nb",
    "tab\there",
    "del\x7f",
    "x" * 1025,
    "é" * 513,  # 1026 UTF-8 bytes
    RESERVED_PREFIX + "tmp-123",
    "a/" + RESERVED_PREFIX + "x",
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=lambda k: repr(k)[:30])
def test_invalid_keys_are_refused(store: ObjectStore, tmp_path: Path, key: str) -> None:
    before = sorted(p for p in tmp_path.rglob("*"))
    src = tmp_path / "src.bin"
    src.write_bytes(b"x")
    for call in (
        lambda: store.put_bytes(key, b"evil"),
        lambda: store.put_file(key, src),
        lambda: store.get_bytes(key),
        lambda: store.open(key),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.uri(key),
        lambda: store.download(key, tmp_path / "dl"),
    ):
        with pytest.raises(InvalidKey):
            call()
    assert issubclass(InvalidKey, ValueError)
    after = sorted(p for p in tmp_path.rglob("*") if p != src)
    assert after == before  # nothing written anywhere
    assert not (tmp_path.parent / "x").exists() and not (tmp_path.parent / "b").exists()


def test_long_but_valid_key(store: ObjectStore) -> None:
    key = "/".join(["s" * 204] * 5)
    assert len(key.encode()) == 1024
    store.put_bytes(key, b"ok")
    assert store.get_bytes(key) == b"ok"
    assert list(store.list()) == [key]


@pytest.mark.parametrize("prefix", ["../", "/abs", "a//", "a\\b", "a\x00", "../../etc/"])
def test_invalid_list_prefix(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(store.list(prefix))


def test_invalid_metadata(store: ObjectStore) -> None:
    for meta in ({"bad name": "x"}, {"": "x"}, {"ok": 1}, {"a": "1", "A": "2"}, {"tên": "x"}):
        with pytest.raises(InvalidKey):
            store.put_bytes("m.txt", b"x", metadata=meta)  # type: ignore[arg-type]
    assert not store.exists("m.txt")


def test_uri(store: ObjectStore) -> None:
    store.put_bytes("hồ sơ/HS 01/đơn.pdf", b"x")
    uri = store.uri("hồ sơ/HS 01/đơn.pdf")
    scheme = {"local": "file", "s3": "s3"}[store.backend]
    assert uri.startswith(f"{scheme}://")
    assert unquote(uri).endswith("hồ sơ/HS 01/đơn.pdf")
    assert " " not in uri  # a real URI: spaces and non-ASCII are percent-encoded


# -- local backend specifics ------------------------------------------------------------------


def test_local_layout_and_file_uri(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("hồ sơ/HS01/đơn.pdf", b"pdf", metadata={"ghi_chu": "Đã số hoá"})
    path = tmp_path / "store" / BUCKET / "hồ sơ" / "HS01" / "đơn.pdf"
    assert path.read_bytes() == b"pdf"
    uri = store.uri("hồ sơ/HS01/đơn.pdf")
    assert uri == path.resolve().as_uri()
    parsed = urlparse(uri)
    assert parsed.scheme == "file" and Path(unquote(parsed.path)) == path.resolve()
    # The bucket folder holds only the objects; sidecars live in their own tree.
    files = sorted(p.relative_to(tmp_path / "store" / BUCKET).as_posix() for p in path.parents[2].rglob("*"))
    assert files == ["hồ sơ", "hồ sơ/HS01", "hồ sơ/HS01/đơn.pdf"]
    assert (tmp_path / "store" / ".meta" / BUCKET / "hồ sơ" / "HS01" / "đơn.pdf").is_file()


def test_local_list_hides_leftover_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("a/real.pdf", b"x")
    (tmp_path / "store" / BUCKET / "a" / f"{RESERVED_PREFIX}tmp-deadbeef").write_bytes(b"half")
    assert list(store.list()) == ["a/real.pdf"]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_local_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("keep/old.pdf", b"old")
    # /proc/self/mem opens fine and fails on the first read: a real mid-copy I/O error.
    with pytest.raises(OSError):
        store.put_file("keep/old.pdf", "/proc/self/mem")
    with pytest.raises(OSError):
        store.put_file("keep/new.pdf", "/proc/self/mem")
    assert store.get_bytes("keep/old.pdf") == b"old"
    assert list(store.list()) == ["keep/old.pdf"]
    leftovers = [p for p in (tmp_path / "store").rglob("*") if p.name.startswith(RESERVED_PREFIX)]
    assert leftovers == []


def test_local_stat_without_trustworthy_sidecar(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    # A file copied into the bucket by hand: no sidecar at all.
    by_hand = tmp_path / "store" / BUCKET / "by-hand.pdf"
    by_hand.parent.mkdir(parents=True)
    by_hand.write_bytes(b"manual")
    info = store.stat("by-hand.pdf")
    assert info.sha256 == sha(b"manual") and info.size == 6 and dict(info.metadata) == {}
    assert info.content_type == "application/pdf"
    # A file replaced behind the store's back: the old sidecar must not be believed.
    store.put_bytes("x.bin", b"original", metadata={"a": "b"})
    target = tmp_path / "store" / BUCKET / "x.bin"
    replacement = target.with_name("replacement")
    replacement.write_bytes(b"changed!")
    os.replace(replacement, target)
    assert store.stat("x.bin").sha256 == sha(b"changed!")


def test_local_key_conflicts_with_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("a", b"file")
    with pytest.raises(InvalidKey):
        store.put_bytes("a/b", b"x")
    store.put_bytes("c/d", b"x")
    with pytest.raises(InvalidKey):
        store.put_bytes("c", b"x")
    assert list(store.list()) == ["a", "c/d"]
    with pytest.raises(InvalidKey):
        store.put_bytes("s" * 256, b"x")  # longer than a file name may be


def test_local_delete_prunes_empty_folders(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("x/y/z.pdf", b"1")
    store.put_bytes("x/keep.pdf", b"2")
    store.delete("x/y/z.pdf")
    assert not (tmp_path / "store" / BUCKET / "x" / "y").exists()
    assert (tmp_path / "store" / BUCKET / "x" / "keep.pdf").exists()
    store.put_bytes("x/y", b"now a file")  # the folder is gone, so the name is free again
    assert store.get_bytes("x/y") == b"now a file"


def test_local_symlink_out_of_bucket_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", BUCKET)
    store.put_bytes("seed", b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store" / BUCKET / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        store.put_bytes("link/evil.txt", b"x")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("bucket", ["", "ab", "Upper", "under_score", "-dash", "a..b", "x" * 64, ".meta"])
def test_local_bucket_names(tmp_path: Path, bucket: str) -> None:
    with pytest.raises(InvalidKey):
        LocalStore(tmp_path, bucket)


def test_validate_key_returns_key() -> None:
    assert validate_key("hồ sơ/HS01/đơn.pdf") == "hồ sơ/HS01/đơn.pdf"


# -- open_store --------------------------------------------------------------------------------


def test_open_store_local(tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path, store="local", bucket="kho-so"))
    assert isinstance(store, LocalStore)
    assert store.backend == "local" and store.bucket == "kho-so"
    store.put_bytes("a.txt", b"x")
    assert (tmp_path / "store" / "kho-so" / "a.txt").read_bytes() == b"x"


def test_open_store_s3_not_available(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="S3 backend not available yet"):
        open_store(Settings(home=tmp_path, store="s3://sohoa"))
    with pytest.raises(ConfigError, match="unknown object store"):
        open_store(Settings(home=tmp_path, store="ftp://x"))
