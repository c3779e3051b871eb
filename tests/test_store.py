"""Object store contract, run against every backend: the local folder, and S3 on two real servers.

`local` runs on folders under tmp_path. `s3-nanio` and `s3-moto` run the same tests through
`S3Store` against S3 servers the session starts on loopback (`tests/s3server.py`): nanio checks
signatures like MinIO, moto has object tagging. Each S3 test gets a bucket of its own. A server
package that is not installed skips its backend with the pip command to run (fails under CI=true).
The local-only tests check the on-disk layout; the S3-only tests after them check the wire format,
tags, multipart, integrity checks, retries, and what happens when the server dies mid-upload.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pipeline.errors import ConfigError, is_transient
from pipeline.settings import Settings
from pipeline.store import (
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StoreIntegrityError,
    StoreUnavailable,
    open_store,
)
from pipeline.store.keys import RESERVED_PREFIX, validate_key
from pipeline.store.s3 import decode_meta_value, encode_meta_value
from tests import s3server

BUCKET = "sohoa-test"
MiB = 1024 * 1024


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return LocalStore(tmp_path / "store", BUCKET)


def new_bucket() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


def s3_store(server: s3server.S3Server | s3server.FaultProxy, bucket: str | None = None, **options) -> S3Store:
    """An S3Store on a test server: small parts, fast and few retries, so failures show quickly."""
    settings = {"region": s3server.REGION, "part_size": 5 * MiB, "max_attempts": 3, "backoff_s": 0.05,
                "timeout_s": 20, **options}
    return S3Store(server.endpoint, bucket or new_bucket(), access_key=s3server.ACCESS_KEY,
                   secret_key=s3server.SECRET_KEY, **settings)


def need_server(kind: str) -> None:
    """Skip without the server package, but fail in CI (CI=true), where a skip would hide a missing install."""
    why = s3server.missing(kind)
    if why:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(why)


def _server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kind: str) -> Iterator:
    need_server(kind)
    server = s3server.S3Server(kind, tmp_path_factory.mktemp(kind)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nanio_server(request, tmp_path_factory) -> Iterator[s3server.S3Server]:
    yield from _server(request, tmp_path_factory, "nanio")


@pytest.fixture(scope="session")
def moto_server(request, tmp_path_factory) -> Iterator[s3server.S3Server]:
    yield from _server(request, tmp_path_factory, "moto")


def _s3_on(fixture: str) -> Callable[[pytest.FixtureRequest, Path], ObjectStore]:
    def make(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
        return s3_store(request.getfixturevalue(fixture))

    return make


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], ObjectStore]] = {
    "local": _local,
    "s3-nanio": _s3_on("nanio_server"),
    "s3-moto": _s3_on("moto_server"),
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return BACKENDS[request.param](request, tmp_path)


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


def test_open_store_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown object store"):
        open_store(Settings(home=tmp_path, store="ftp://x"))


SECRET = "khoa-bi-mat-khong-duoc-lo-42"


def test_open_store_s3_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_STORE", "s3://kho-luu-tru")
    monkeypatch.setenv("SOHOA_S3__ENDPOINT", "127.0.0.1:9")
    monkeypatch.setenv("SOHOA_S3__ACCESS_KEY", "sohoa-app")
    monkeypatch.setenv("SOHOA_S3__SECRET_KEY", SECRET)
    monkeypatch.setenv("SOHOA_S3__SECURE", "true")
    settings = Settings(home=tmp_path)
    store = open_store(settings)  # contacts no server: nothing listens on port 9
    assert isinstance(store, S3Store)
    assert (store.backend, store.bucket, store.endpoint) == ("s3", "kho-luu-tru", "https://127.0.0.1:9")
    assert store.uri("hồ sơ/đơn.pdf") == "s3://kho-luu-tru/h%E1%BB%93%20s%C6%A1/%C4%91%C6%A1n.pdf"
    for text in (repr(store), str(store), repr(settings), str(settings.s3), settings.model_dump_json()):
        assert SECRET not in text


def test_open_store_s3_url_names_the_endpoint(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, store="s3://127.0.0.1:9000/kho-so",
                        s3={"endpoint": "ignored:1", "access_key": "a", "secret_key": SECRET})
    store = open_store(settings)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.endpoint) == ("kho-so", "http://127.0.0.1:9000")
    https = Settings(home=tmp_path, store="s3://kho-so",
                     s3={"endpoint": "https://127.0.0.1:9443", "access_key": "a", "secret_key": SECRET})
    assert open_store(https).endpoint == "https://127.0.0.1:9443"


@pytest.mark.parametrize(("store_url", "s3", "message"), [
    ("s3://kho-so", {"access_key": "a", "secret_key": SECRET}, "SOHOA_S3__ENDPOINT"),
    ("s3://kho-so", {"endpoint": "127.0.0.1:9000"}, "SOHOA_S3__ACCESS_KEY"),
    (f"s3://a:{SECRET}@127.0.0.1:9000/kho-so", {}, "must not contain credentials"),
    ("s3://Bad_Bucket", {"endpoint": "127.0.0.1:9000"}, "bucket"),
    ("s3://127.0.0.1:9000/kho-so/sub", {}, "folder inside bucket"),
    ("s3://kho-so", {"endpoint": "ftp://127.0.0.1:9000", "access_key": "a", "secret_key": SECRET}, "scheme"),
])
def test_open_store_s3_config_errors(tmp_path: Path, store_url: str, s3: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        open_store(Settings(home=tmp_path, store=store_url, s3=s3))
    assert SECRET not in str(info.value)


# -- S3 backend specifics (real servers on loopback) -------------------------------------------


def test_s3_metadata_is_percent_encoded_on_the_wire(nanio_server: s3server.S3Server) -> None:
    store = s3_store(nanio_server)
    meta = {
        "type_name": "Quyết định giao đất",
        "dossier": "HS-2023-001",
        "ghi_chu": "  lề trái  ",  # edge spaces would be stripped from a header
        "empty": "",
        "looks_encoded": "UTF-8''abc",  # a value that merely looks encoded survives too
        "percent": "100% xong",
    }
    store.put_bytes("m/a.pdf", b"%PDF", metadata=meta)
    wire = {k.lower(): v for k, v in nanio_server.client().stat_object(bucket_name=store.bucket, object_name="m/a.pdf").metadata.items()}
    assert wire["x-amz-meta-type_name"] == "UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20giao%20%C4%91%E1%BA%A5t"
    assert wire["x-amz-meta-dossier"] == "HS-2023-001"  # plain ASCII stays readable for `mc stat`
    assert wire["x-amz-meta-percent"] == "100% xong"
    assert wire["x-amz-meta-sha256"] == sha(b"%PDF")
    assert all(v.isascii() for k, v in wire.items() if k.startswith("x-amz-meta-"))
    info = store.stat("m/a.pdf")
    assert dict(info.metadata) == meta
    assert info.sha256 == sha(b"%PDF") and info.content_type == "application/pdf"


def test_s3_tags_carry_vietnamese(moto_server: s3server.S3Server, tmp_path: Path) -> None:
    store = s3_store(moto_server)
    meta = {"dossier": "HS-2023-001", "type": "quyet-dinh-giao-dat", "owner": "Nguyễn Thị Hoà",
            "kind": "original", "type_name": "Quyết định giao đất"}
    store.put_bytes("t/a.pdf", b"x", metadata=meta)
    assert store.tags("t/a.pdf") == {"dossier": "HS-2023-001", "type": "quyet-dinh-giao-dat",
                                     "owner": "Nguyễn Thị Hoà", "kind": "original"}
    assert dict(store.stat("t/a.pdf").metadata) == meta  # tags come on top of the metadata
    # A multipart upload is tagged too; characters AWS refuses in tags become spaces there only.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    decomposed = unicodedata.normalize("NFD", "Đơn đề nghị (bản sao), lần 2")  # as some scanners send it
    store.put_file("t/big.bin", big, metadata={"dossier": "HS 01", "owner": decomposed})
    assert store.tags("t/big.bin") == {"dossier": "HS 01", "owner": "Đơn đề nghị bản sao lần 2"}
    assert store.stat("t/big.bin").metadata["owner"] == decomposed  # metadata keeps the exact text
    store.put_bytes("t/none.txt", b"x")
    assert store.tags("t/none.txt") == {}


def test_s3_large_file_goes_in_verified_parts(nanio_server: s3server.S3Server, tmp_path: Path) -> None:
    store = s3_store(nanio_server)  # 5 MiB parts
    data = os.urandom(12 * MiB + 123)
    src = tmp_path / "hồ sơ lớn.pdf"
    src.write_bytes(data)
    info = store.put_file("lon/ho-so.pdf", src, metadata={"dossier": "HS-LỚN"})
    assert info.size == len(data) and info.sha256 == sha(data)
    assert dict(info.metadata) == {"dossier": "HS-LỚN"}
    raw = nanio_server.client()
    parts = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    expected_etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert raw.stat_object(bucket_name=store.bucket, object_name="lon/ho-so.pdf").etag == expected_etag
    assert store._etags_are_md5  # verified by the ETags alone, no read-back was needed
    digest = hashlib.sha256()
    with store.open("lon/ho-so.pdf") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == sha(data)
    assert store.put_bytes("lon/bytes.bin", data).sha256 == sha(data)  # bytes go in parts too
    assert store.get_bytes("lon/bytes.bin") == data
    assert s3server.incomplete_uploads(nanio_server, store.bucket) == []  # no unfinished upload left


def test_s3_reads_check_the_stored_sha256(nanio_server: s3server.S3Server, tmp_path: Path) -> None:
    store = s3_store(nanio_server)
    store.put_bytes("c/doc.pdf", b"original bytes")
    raw = nanio_server.client()
    # Damaged behind the store's back: the digest of the original, other bytes.
    raw.put_object(bucket_name=store.bucket, object_name="c/doc.pdf", data=io.BytesIO(b"tampered bytes"), length=14,
                   metadata={"sha256": sha(b"original bytes")})
    with pytest.raises(StoreIntegrityError):
        store.get_bytes("c/doc.pdf")
    with pytest.raises(StoreIntegrityError), store.open("c/doc.pdf") as stream:
        stream.read()
    with pytest.raises(StoreIntegrityError):
        store.download("c/doc.pdf", tmp_path / "out" / "doc.pdf")
    assert list((tmp_path / "out").iterdir()) == []  # no partial download left
    # Put there by another tool (no digest recorded): stat() hashes the bytes, as LocalStore does.
    raw.put_object(bucket_name=store.bucket, object_name="c/by-mc.pdf", data=io.BytesIO(b"from mc"), length=7)
    info = store.stat("c/by-mc.pdf")
    assert info.sha256 == sha(b"from mc") and dict(info.metadata) == {}
    assert store.get_bytes("c/by-mc.pdf") == b"from mc"


UUID_FILE = Path("/proc/sys/kernel/random/uuid")  # every read of it gives a new UUID


@pytest.mark.skipif(not UUID_FILE.exists(), reason="needs Linux /proc")
def test_s3_file_that_changes_during_the_upload_is_not_stored(nanio_server: s3server.S3Server) -> None:
    store = s3_store(nanio_server)
    with pytest.raises(StoreIntegrityError, match="changed while it was being uploaded"):
        store.put_file("doi/uuid.txt", UUID_FILE)  # the bytes sent are not the bytes hashed first
    assert not store.exists("doi/uuid.txt")


def test_s3_list_leaves_out_keys_the_store_refuses(moto_server: s3server.S3Server) -> None:
    store = s3_store(moto_server)
    store.put_bytes("hs/a.pdf", b"x")
    raw = moto_server.client()
    for odd in ("hs/folder/", "hs//b.pdf"):  # a console's folder marker; a key with an empty segment
        raw.put_object(bucket_name=store.bucket, object_name=odd, data=io.BytesIO(b""), length=0)
    assert list(store.list()) == ["hs/a.pdf"]


def test_s3_bucket_is_created_on_first_use(nanio_server: s3server.S3Server) -> None:
    bucket = new_bucket()
    store = s3_store(nanio_server, bucket)
    raw = nanio_server.client()
    assert not raw.bucket_exists(bucket_name=bucket)  # opening contacts nothing
    assert list(store.list()) == []
    assert raw.bucket_exists(bucket_name=bucket)
    s3_store(nanio_server, bucket).put_bytes("x.txt", b"1")  # an existing bucket is simply used
    assert store.get_bytes("x.txt") == b"1"


def test_s3_presigned_url(nanio_server: s3server.S3Server) -> None:
    store = s3_store(nanio_server)
    store.put_bytes("hồ sơ/đơn.pdf", b"%PDF-1.7 presigned")
    url = store.presigned_url("hồ sơ/đơn.pdf", expires_s=60, filename="Đơn đề nghị.pdf")
    assert url.startswith(f"http://{nanio_server.endpoint}/{store.bucket}/")
    with urllib.request.urlopen(url, timeout=10) as response:  # nanio checks the signature
        assert response.read() == b"%PDF-1.7 presigned"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10)
    assert info.value.code == 403
    with pytest.raises(ValueError):
        store.presigned_url("hồ sơ/đơn.pdf", expires_s=8 * 24 * 3600)
    with pytest.raises(InvalidKey):
        store.presigned_url("../x")


def test_s3_wrong_secret_is_a_config_error(nanio_server: s3server.S3Server) -> None:
    store = S3Store(nanio_server.endpoint, new_bucket(), access_key=s3server.ACCESS_KEY, secret_key=SECRET,
                    region=s3server.REGION, max_attempts=3, backoff_s=0.05)
    with pytest.raises(ConfigError, match="SOHOA_S3__SECRET_KEY") as info:
        store.put_bytes("a.txt", b"x")
    assert SECRET not in str(info.value)


def test_s3_unreachable_server_fails_clearly_after_bounded_retries() -> None:
    port = s3server.free_port()  # nothing listens there
    store = S3Store(f"127.0.0.1:{port}", "kho-so", access_key="a", secret_key=SECRET, region=s3server.REGION,
                    max_attempts=3, backoff_s=0.05)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        store.put_bytes("a.pdf", b"x")
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert f"http://127.0.0.1:{port}" in message and "3 attempts" in message
    assert "SOHOA_S3__ENDPOINT" in message and "Connection refused" in message
    assert SECRET not in message
    assert is_transient(info.value)  # the flow's task retries will try again later


@pytest.mark.parametrize(("status", "code", "error", "requests"), [
    (503, "SlowDown", StoreUnavailable, 3),
    (500, "InternalError", StoreUnavailable, 3),
    (403, "AccessDenied", ConfigError, 1),
])
def test_s3_server_errors_are_retried_only_when_transient(status: int, code: str, error: type, requests: int) -> None:
    server = s3server.ErrorServer(status, code)
    try:
        store = S3Store(server.endpoint, "kho-so", access_key="a", secret_key=SECRET, region=s3server.REGION,
                        max_attempts=3, backoff_s=0.01)
        with pytest.raises(error) as info:
            store.put_bytes("a.pdf", b"x")
        assert server.requests == requests
        assert SECRET not in str(info.value)
    finally:
        server.close()


def test_s3_server_killed_mid_upload_then_restarted(tmp_path: Path) -> None:
    need_server("nanio")
    server = s3server.S3Server("nanio", tmp_path / "server").start()
    proxy = s3server.FaultProxy(server.port)
    try:
        store = s3_store(proxy)
        store.put_bytes("keep/truoc.pdf", b"stored before the crash")
        data = os.urandom(12 * MiB)
        src = tmp_path / "lon.pdf"
        src.write_bytes(data)
        proxy.arm(after_bytes=7 * MiB, action=server.kill)  # SIGKILL during the second part
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            store.put_file("crash/lon.pdf", src)
        assert proxy.fired and time.monotonic() - started < 10
        assert proxy.endpoint in str(info.value) and "3 attempts" in str(info.value)
        assert any("multipart upload" in note for note in getattr(info.value, "__notes__", []))
        with pytest.raises(StoreUnavailable):
            store.exists("keep/truoc.pdf")

        server.start()
        proxy.heal()
        assert not store.exists("crash/lon.pdf")  # no partial object
        assert list(store.list()) == ["keep/truoc.pdf"]
        assert store.get_bytes("keep/truoc.pdf") == b"stored before the crash"
        # minio could not abort the upload it had started (the server was gone): its parts stay,
        # invisible, until MinIO's stale-upload cleanup, as the error's note says.
        assert s3server.incomplete_uploads(server, store.bucket) == ["crash/lon.pdf"]
        assert store.put_file("crash/lon.pdf", src).sha256 == sha(data)
        assert store.get_bytes("crash/lon.pdf") == data
    finally:
        proxy.close()
        server.stop()


def test_s3_reserved_and_unencodable_metadata() -> None:
    store = S3Store("127.0.0.1:9", "kho-so", access_key="a", secret_key=SECRET)  # refused before any request
    with pytest.raises(InvalidKey, match="reserved"):
        store.put_bytes("a.pdf", b"x", metadata={"sha256": "abc"})
    with pytest.raises(InvalidKey, match="content type"):
        store.put_bytes("a.pdf", b"x", content_type="văn bản/pdf")


@pytest.mark.parametrize("value", [
    "", "abc", "Quyết định", " lề ", "UTF-8''x", "100%", "a\tb\nc", "Đ" * 300, "%E1%BA%BF", "=?utf-8?q?x?=",
])
def test_s3_metadata_value_encoding_round_trips(value: str) -> None:
    wire = encode_meta_value(value)
    assert wire.isascii() and all(" " <= c <= "~" for c in wire) and wire == wire.strip() and wire
    assert decode_meta_value(wire) == value
