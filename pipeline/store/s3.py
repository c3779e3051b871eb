"""MinIO / S3 object store, through the `minio` client's public API: `s3://bucket/key`.

What each write does, so an archive can trust what it reads back:

* **Atomic.** `put_object` sends a small object as one PUT, which S3 commits whole or not at all, and
  a file larger than the part size as a multipart upload (one part in memory at a time), invisible
  to readers until CompleteMultipartUpload; on failure minio aborts it (and if the server is gone by
  then, the orphan parts stay invisible and are removed by MinIO's stale-upload cleanup or a
  lifecycle rule; the error says so).
* **SHA-256 in the object.** Metadata is fixed when an upload starts, so the digest must be known
  first: `put_bytes` hashes the bytes, `put_file` hashes the file in a first streaming pass. The
  upload then hashes the bytes it actually hands to minio (`_Sending`); if the file changed in between,
  it stops before the last byte, so the last request (PUT or Complete) is never sent. The digest is
  stored as `x-amz-meta-sha256`.
* **Verified.** Over plain HTTP every request carries the SHA-256 of its body in its signature and
  MinIO checks it (over HTTPS the client sends Content-MD5, also checked). On top of that the store
  checks the ETag: a single PUT's ETag is the MD5 of the body; a multipart ETag is
  `md5(md5(part1) ‖ … ‖ md5(partN))-N`, computed here from the parts as sent, so no re-read is needed.
  A server whose ETags are not MD5s (SSE-KMS, some gateways) makes the store re-read the object and
  hash it instead. Finally a HEAD confirms the size, the stored `sha256` and every metadata field (a
  proxy dropping `x-amz-meta-*` headers with underscores is caught here, not months later).
* **Retried, then a clear error.** Connection errors, time-outs, 5xx, SlowDown and RequestTimeout
  are retried by the project's one retry policy (`pipeline.retrying`: doubling jittered waits, a
  bounded number of tries per request, a log line per retry; a failed upload is sent again whole);
  then `StoreUnavailable` names the endpoint and what to check. Bad credentials raise `ConfigError`;
  urllib3's own retries are off so the bound is the policy's.

Metadata: S3 only carries US-ASCII in `x-amz-meta-*` headers (minio-py refuses anything else), so a
value that is not plain printable ASCII is stored percent-encoded behind the RFC 8187 marker
`UTF-8''` (`Quyết định` → `UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh`) and decoded again by `stat()`;
plain ASCII values are stored as they are, readable by `mc stat`. The fields named in `tag_fields`
(dossier, type, owner, kind) are also set as object tags, which carry Vietnamese as is and can drive
lifecycle, replication and retention rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import CopySource, Tags
from minio.error import InvalidResponseError, S3Error, ServerError

from pipeline.errors import ConfigError, SohoaError, TransientError
from pipeline.retrying import RetryPolicy
from pipeline.store import keys as key_rules
from pipeline.store.base import ObjectInfo, ObjectNotFound, ObjectStore, sha256_stream

if TYPE_CHECKING:
    from pipeline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 16 * MiB
LIST_PAGE = 1000  # keys per ListObjectsV2 answer (S3's maximum)

SHA256_META = "sha256"
"""User-metadata name (`x-amz-meta-sha256`) holding the hex SHA-256 of the object's bytes."""

ENCODED_PREFIX = "UTF-8''"
"""Marks a percent-encoded metadata value (RFC 8187 `ext-value` syntax, without a language)."""

TAG_FIELDS = ("dossier", "type", "owner", "kind")
"""Metadata fields also set as object tags (S3 allows at most 10 tags per object)."""

_SAFE_IN_ENCODED = "/:,;()@+=!*'"  # kept readable inside an encoded value; '%' and spaces are encoded
_MAX_TAG_VALUE = 256
_TAG_DISALLOWED = re.compile(r"[^\w +\-=.:/@]+")  # AWS: letters, digits, spaces and + - = . _ : / @
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}(-[0-9]+)?$")

_TRANSIENT_CODES = frozenset({
    "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "OperationAborted",
    "XMinioServerNotInitialized", "XMinioReadQuorum", "XMinioWriteQuorum", "XMinioStorageOffline",
})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"})
_AUTH_CODES = frozenset({
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
    "AuthorizationHeaderMalformed", "AllAccessDisabled",
})


@dataclass(frozen=True)
class Listed:
    """One entry of a listing: an object, or (listing one level) a "folder" whose key ends in '/'."""

    key: str
    size: int = 0
    etag: str = ""
    modified: datetime | None = None
    is_folder: bool = False


class S3StoreError(SohoaError):
    """The object store answered, but not with what was asked (refused, integrity check failed)."""


class StoreUnavailable(TransientError):
    """The object store did not answer, or kept failing, after the bounded retries; nothing was
    half-written. The same call may work once the server is back."""


class StoreIntegrityError(S3StoreError):
    """What the server holds (or sent) is not what was uploaded."""


class _Failed(StoreUnavailable):
    """One try of a request failed on passing trouble; the retry policy tries again (its `__cause__`
    is the client's error). After the last try the store raises one `StoreUnavailable` for them all."""

    def __str__(self) -> str:
        return self.problem  # for the retry log line, which names the store and the key already


class _ReadMismatch(StoreUnavailable):
    """Bytes read differ from the stored sha256: damage, or a server that is not atomic racing an
    overwrite (headers of one version, body of the other). Read again; if it persists, it is damage."""


@dataclass(frozen=True)
class _Endpoint:
    host: str  # host:port, as minio-py wants it
    secure: bool

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.host}"


def parse_endpoint(endpoint: str, secure: bool = False) -> _Endpoint:
    """`host:port`, or a `http://`/`https://` URL (whose scheme then decides `secure`)."""
    text = (endpoint or "").strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"S3 endpoint scheme {parts.scheme!r} is not http or https",
                              path="s3.endpoint", hint="Use host:port, e.g. 127.0.0.1:9000")
        if parts.username or parts.password:
            raise ConfigError("the S3 endpoint must not contain credentials", path="s3.endpoint",
                              hint="Set SOHOA_S3__ACCESS_KEY and SOHOA_S3__SECRET_KEY instead")
        if parts.path.strip("/") or parts.query:
            raise ConfigError("the S3 endpoint must be host:port only, without a path", path="s3.endpoint",
                              hint="Put the bucket in the store URL: SOHOA_STORE=s3://bucket")
        secure = parts.scheme == "https"
        text = parts.netloc
    if not text or "/" in text or "@" in text or any(c.isspace() for c in text):
        raise ConfigError(f"S3 endpoint {text!r} is not host:port", path="s3.endpoint",
                          hint="Set SOHOA_S3__ENDPOINT, e.g. 127.0.0.1:9000")
    return _Endpoint(text, secure)


def parse_store_url(spec: str) -> tuple[str | None, str]:
    """`s3://bucket` → (None, bucket); `s3://host:port/bucket` → (host:port, bucket)."""
    parts = urlsplit(spec.strip())
    shown = "store: s3://…"  # the spec itself may hold a secret someone pasted in; never echo it
    if parts.scheme != "s3":
        raise ConfigError("an S3 store URL starts with s3://", path=shown)
    if parts.username or parts.password:
        raise ConfigError("the store URL must not contain credentials", path=shown,
                          hint="Remove them from SOHOA_STORE and set SOHOA_S3__ACCESS_KEY / SOHOA_S3__SECRET_KEY")
    if parts.query or parts.fragment:
        raise ConfigError("the store URL takes no ?query or #fragment", path=shown,
                          hint="Use s3://bucket or s3://host:port/bucket")
    path = parts.path.strip("/")
    endpoint, bucket = (parts.netloc, path) if path else (None, parts.netloc)
    if "/" in bucket:
        raise ConfigError(f"store URL names a folder inside bucket {bucket.split('/')[0]!r}", path=shown,
                          hint="Use s3://bucket or s3://host:port/bucket; keys are laid out by the pipeline")
    try:
        key_rules.validate_bucket(bucket)
    except key_rules.InvalidKey as exc:
        raise ConfigError(str(exc), path=shown, hint="Use s3://bucket or s3://host:port/bucket") from exc
    return endpoint or None, bucket


# -- metadata and tags ---------------------------------------------------------------------------


def encode_meta_value(value: str) -> str:
    """ASCII as is; anything a header cannot carry faithfully percent-encoded behind `UTF-8''`."""
    plain = (
        value != ""
        and all(" " <= c <= "~" for c in value)
        and value == value.strip()
        and not value.startswith(ENCODED_PREFIX)
    )
    return value if plain else ENCODED_PREFIX + quote(value, safe=_SAFE_IN_ENCODED)


def decode_meta_value(value: str) -> str:
    if value.startswith(ENCODED_PREFIX):
        try:
            return unquote(value[len(ENCODED_PREFIX):], errors="strict")
        except UnicodeDecodeError:
            return value  # not ours after all; show it as stored
    if not value.isascii():  # raw UTF-8 set by another tool arrives as Latin-1 text
        with contextlib.suppress(UnicodeError):
            return value.encode("latin-1").decode("utf-8")
    return value


def tag_value(value: str) -> str:
    """A value AWS S3 accepts as a tag (MinIO accepts more): Vietnamese letters stay as they are,
    other characters become spaces (the exact value is in the metadata)."""
    text = unicodedata.normalize("NFC", value)  # combining accents are not letters on their own
    return " ".join(_TAG_DISALLOWED.sub(" ", text).split())[:_MAX_TAG_VALUE]


# -- streams -------------------------------------------------------------------------------------


class _ObjectReader(io.RawIOBase):
    """A GET response as a raw stream; checks the stored SHA-256 once read to the end."""

    def __init__(self, response: urllib3.BaseHTTPResponse, where: str, expected_sha: str | None,
                 endpoint: str):
        super().__init__()
        self._response = response
        self._where = where
        self._expected = expected_sha
        self._endpoint = endpoint
        self._digest = hashlib.sha256()
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            chunk = self._response.read(len(buffer), decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreUnavailable(
                f"connection to the object store lost while reading ({type(exc).__name__})",
                path=self._where, hint=f"Check {self._endpoint}; reading again starts over",
            ) from exc
        n = len(chunk)
        if n:
            buffer[:n] = chunk
            self._digest.update(chunk)
        elif not self._checked:
            self._checked = True
            if self._expected and self._digest.hexdigest() != self._expected:
                raise StoreIntegrityError("the bytes read do not match the object's stored sha256",
                                          path=self._where, hint="The object is damaged; restore it from a copy")
        return n

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._response.close()
                self._response.release_conn()
        super().close()



def _describe(exc: BaseException) -> str:
    if isinstance(exc, S3Error):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, ServerError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, InvalidResponseError):
        return f"HTTP {getattr(exc, '_code', '?')} with a non-S3 answer (a proxy?)"
    if isinstance(exc, ElementTree.ParseError):
        return "an answer that is not S3 XML (is this call supported by the server?)"
    if isinstance(exc, urllib3.exceptions.ProtocolError) and len(exc.args) > 1 \
            and isinstance(exc.args[1], BaseException):
        inner = exc.args[1]  # ('Connection aborted.', RemoteDisconnected('Remote end closed …'))
        return f"connection lost: {type(inner).__name__}: {inner}"[:200]
    if isinstance(exc, _ReadMismatch):
        return "bytes read differ from the stored sha256"
    text = str(exc)
    if "Errno" in text:  # keep "[Errno 111] Connection refused", drop the pool's repr
        text = text[text.index("[Errno"):]
    return f"{type(exc).__name__}: {text[:200]}"


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _ReadMismatch):
        return True
    if isinstance(exc, urllib3.exceptions.SSLError):
        return False  # a TLS mismatch does not heal by itself
    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0) or 0
        return exc.code in _TRANSIENT_CODES or status >= 500 or status == 429
    if isinstance(exc, ServerError):
        return exc.status_code >= 500 or exc.status_code == 429
    if isinstance(exc, InvalidResponseError):
        code = getattr(exc, "_code", 0) or 0
        return code >= 500 or code == 429
    return isinstance(exc, OSError)  # socket errors not wrapped by urllib3


class _Sending:
    """The stream minio's `put_object` reads for one try of an upload: the source's bytes, hashed as
    they go out. SHA-256 of everything is compared with the digest already put in the metadata before
    the last byte is handed over, so a file that changed in between is never committed (minio then
    sends neither the PUT nor the last part and CompleteMultipartUpload, and aborts the upload); the
    MD5 of each part gives the ETag the server must answer."""

    def __init__(self, src: BinaryIO, size: int, part_size: int, sha: str, where: str):
        self._src = src
        self._size = size
        self._part_size = part_size
        self._sha = sha
        self._where = where
        self._digest = hashlib.sha256()
        self._part = hashlib.md5(usedforsecurity=False)
        self._in_part = 0
        self._part_md5: list[bytes] = []
        self._sent = 0

    def read(self, n: int = -1) -> bytes:
        left = self._size - self._sent
        want = left if n is None or n < 0 else min(n, left)
        chunk = self._src.read(want)
        while len(chunk) < want and (more := self._src.read(want - len(chunk))):
            chunk += more
        if len(chunk) < want:
            raise self._changed()
        self._digest.update(chunk)
        self._sent += len(chunk)
        view = memoryview(chunk)
        while view:
            piece = view[: self._part_size - self._in_part]
            self._part.update(piece)
            self._in_part += len(piece)
            view = view[len(piece):]
            if self._in_part == self._part_size:
                self._end_part()
        if want and self._sent == self._size:
            if self._in_part:
                self._end_part()
            if self._digest.hexdigest() != self._sha or self._src.read(1):
                raise self._changed()
        return chunk

    def _end_part(self) -> None:
        self._part_md5.append(self._part.digest())
        self._part = hashlib.md5(usedforsecurity=False)
        self._in_part = 0

    def _changed(self) -> StoreIntegrityError:
        return StoreIntegrityError("the file changed while it was being uploaded; nothing was stored",
                                   path=self._where, hint="Store it again once it is no longer written to")

    def etag(self) -> str:
        """The ETag S3 gives these bytes: MD5 of a single PUT; `md5(md5(p1) ‖ … ‖ md5(pN))-N` of parts."""
        if self._size <= self._part_size:
            return (self._part_md5[0] if self._part_md5 else hashlib.md5(b"", usedforsecurity=False).digest()).hex()
        joined = hashlib.md5(b"".join(self._part_md5), usedforsecurity=False).hexdigest()
        return f"{joined}-{len(self._part_md5)}"


def _this_try_failed(exc: BaseException) -> bool:
    """What the store retries: passing trouble of one try (a TLS mismatch, say, is also a
    `StoreUnavailable` for the flows, but trying it again at once cannot help)."""
    return isinstance(exc, _Failed | _ReadMismatch)


# -- the store -----------------------------------------------------------------------------------


class S3Store(ObjectStore):
    """Objects in one bucket of a MinIO (or any S3) server; see the module docstring."""

    backend = "s3"

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str,
        secret_key: str,
        secure: bool = False,
        region: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        timeout_s: float = 60.0,
        tag_fields: tuple[str, ...] = TAG_FIELDS,
    ):
        self.bucket = key_rules.validate_bucket(bucket)
        self._endpoint = parse_endpoint(endpoint, secure)
        if not access_key or not secret_key:
            raise ConfigError("no S3 credentials", path=self._endpoint.url,
                              hint="Set SOHOA_S3__ACCESS_KEY and SOHOA_S3__SECRET_KEY (a MinIO access key)")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between 5 MiB and 5 GiB, not {part_size}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if len(tag_fields) > 10:
            raise ValueError("S3 allows at most 10 tags per object")
        self.part_size = part_size
        self._policy = RetryPolicy(attempts=max_attempts, first_delay_s=backoff_s,
                                   max_delay_s=max(max_backoff_s, backoff_s))
        self.tag_fields = tuple(tag_fields)
        self._ready = False
        self._ready_lock = threading.Lock()
        self._etags_are_md5 = True
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(10.0, timeout_s), read=timeout_s),
            maxsize=10,
            retries=False,  # retries are the store's policy (pipeline.retrying): bounded, logged
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        self._client = Minio(endpoint=self._endpoint.host, access_key=access_key, secret_key=secret_key,
                             secure=self._endpoint.secure, region=region, http_client=http)

    @classmethod
    def from_settings(cls, settings: Settings, *, bucket: str | None = None,
                      endpoint: str | None = None) -> S3Store:
        """The store named by `settings.store = s3://…` with the `settings.s3` connection; given a
        `bucket` (and maybe an `endpoint`), that bucket instead, e.g. a backlog source or an inbox."""
        url_endpoint, bucket = parse_store_url(settings.store) if bucket is None else (endpoint, bucket)
        s3 = settings.s3
        endpoint = url_endpoint or s3.endpoint
        if not endpoint:
            raise ConfigError("no S3 endpoint", path="store: s3://…",
                              hint="Set SOHOA_S3__ENDPOINT=host:port (e.g. 127.0.0.1:9000) or use "
                                   "SOHOA_STORE=s3://host:port/bucket")
        return cls(
            endpoint, bucket,
            access_key=s3.access_key or "",
            secret_key=s3.secret_key.get_secret_value() if s3.secret_key else "",
            secure=s3.secure, region=s3.region, part_size=s3.part_size_mb * MiB,
            max_attempts=s3.max_attempts, backoff_s=s3.backoff_s, timeout_s=s3.timeout_s,
        )

    @property
    def endpoint(self) -> str:
        """`http://host:port` of the server (no credentials)."""
        return self._endpoint.url

    def __repr__(self) -> str:
        return f"<S3Store backend=s3 endpoint={self.endpoint} bucket={self.bucket}>"

    # -- calling the server ----------------------------------------------------------------------

    def _where(self, key: str | None) -> str:
        return f"{self.endpoint}/{self.bucket}" + (f"/{key}" if key else "")

    def _unavailable(self, what: str, last: BaseException | None, attempts: int, started: float,
                     key: str | None) -> StoreUnavailable:
        elapsed = time.monotonic() - started
        cause = f" ({_describe(last)})" if last is not None else ""
        return StoreUnavailable(
            f"object store did not answer {what} after {attempts} attempts in {elapsed:.1f}s{cause}",
            path=self._where(key),
            hint=f"Check that MinIO is running and reachable at {self.endpoint} (SOHOA_S3__ENDPOINT), that "
                 "SOHOA_S3__SECURE matches http/https, and the server's disks and health "
                 "(`mc admin info`); nothing was half-written, so the operation can simply be run again",
        )

    def _call(self, what: str, fn: Callable[[], T], key: str | None = None) -> T:
        """`fn()` under the store's retry policy; S3 errors turned into the store's own errors."""
        started = time.monotonic()
        retrying = self._policy.retrying(f"object store {self.endpoint}: {what}" + (f" of {key}" if key else ""),
                                         retry_on=_this_try_failed)
        try:
            return retrying(self._once, what, fn, key)
        except _ReadMismatch:
            raise StoreIntegrityError(
                f"the bytes read do not match the object's stored sha256 ({self._policy.attempts} reads)",
                path=self._where(key), hint="The object is damaged; restore it from a copy",
            ) from None
        except _Failed as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise self._unavailable(what, exc.__cause__, attempts, started, key) from exc.__cause__

    def _once(self, what: str, fn: Callable[[], T], key: str | None) -> T:
        """One try: passing trouble becomes `_Failed` (retried), the rest the store's own error."""
        try:
            return fn()
        except (SohoaError, ObjectNotFound, key_rules.InvalidKey):
            raise
        except Exception as exc:
            if _is_transient(exc):
                raise _Failed(_describe(exc), path=self._where(key)) from exc
            translated = self._translate(exc, key)
            if translated is exc:
                raise
            raise translated from exc

    def _translate(self, exc: BaseException, key: str | None) -> BaseException:
        if isinstance(exc, urllib3.exceptions.SSLError):
            return StoreUnavailable(
                f"TLS handshake with the object store failed ({_describe(exc)})", path=self._where(key),
                hint="Check SOHOA_S3__SECURE (false for a plain-http MinIO) and the server certificate",
            )
        if isinstance(exc, S3Error):
            if exc.code in _NOT_FOUND_CODES and key is not None:
                return ObjectNotFound(f"{self.bucket}/{key}: no such object")
            if exc.code in _AUTH_CODES:
                return ConfigError(
                    f"the object store refused the request ({exc.code})", path=self._where(key),
                    hint="Check SOHOA_S3__ACCESS_KEY / SOHOA_S3__SECRET_KEY and that the key's policy allows "
                         f"s3:GetObject, PutObject, DeleteObject, ListBucket and GetObjectTagging on {self.bucket}",
                )
            if exc.code == "NoSuchBucket":
                self._ready = False  # deleted under us: the next call creates it again
            return S3StoreError(f"object store error {_describe(exc)}", path=self._where(key))
        if isinstance(exc, ServerError | InvalidResponseError | ElementTree.ParseError):
            return S3StoreError(f"unexpected answer from the object store ({_describe(exc)})",
                                path=self._where(key), hint="Is SOHOA_S3__ENDPOINT a MinIO/S3 server?")
        return exc

    def _ensure_bucket(self) -> None:
        """Create the bucket on first use (once per store object)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if not self.has_bucket():
                try:
                    self._call("bucket creation", lambda: self._client.make_bucket(bucket_name=self.bucket))
                    log.info("object store %s: created bucket %s", self.endpoint, self.bucket)
                except S3StoreError as exc:
                    cause = exc.__cause__
                    if not (isinstance(cause, S3Error)
                            and cause.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")):
                        raise
            self._ready = True

    # -- writes ------------------------------------------------------------------------------

    def _content_type(self, key: str, content_type: str | None, meta: dict[str, str]) -> str:
        if SHA256_META in meta:
            raise key_rules.InvalidKey(f"metadata name {SHA256_META!r} is reserved: the store records the object's digest there")
        ctype = key_rules.guess_content_type(key, content_type)
        if not all(" " <= c <= "~" for c in ctype):
            raise key_rules.InvalidKey(f"content type {ctype!r}: only printable ASCII is allowed")
        return ctype

    def _tags(self, meta: dict[str, str]) -> Tags | None:
        tags = Tags.new_object_tags()
        for name in self.tag_fields:
            if name in meta:
                tags[name] = tag_value(meta[name])
        return tags or None

    def _part_size_for(self, size: int) -> int:
        needed = -(-size // MAX_PARTS)  # ceil
        return max(self.part_size, -(-needed // MiB) * MiB)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None,
                  metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        key_rules.validate_key(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"put_bytes needs bytes, not {type(data).__name__}")
        meta = key_rules.validate_metadata(metadata)
        body = bytes(data)
        ctype = self._content_type(key, content_type, meta)
        return self._upload(key, io.BytesIO(body), len(body), hashlib.sha256(body).hexdigest(), ctype, meta)

    def put_file(self, key: str, path: str | Path, content_type: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        key_rules.validate_key(key)
        meta = key_rules.validate_metadata(metadata)
        with open(path, "rb") as src:
            ctype = self._content_type(key, content_type, meta)
            sha, size = sha256_stream(src, MiB)  # first pass: the digest must be in the metadata up front
            return self._upload(key, src, size, sha, ctype, meta)

    def _upload(self, key: str, src: BinaryIO, size: int, sha: str, ctype: str,
                meta: dict[str, str]) -> ObjectInfo:
        """One PUT, or a multipart upload above the part size (parts sent one at a time, so memory
        stays at one part); a failed try is sent again whole, from the start of `src`."""
        self._ensure_bucket()
        part_size = self._part_size_for(size)
        wire = {f"x-amz-meta-{name}": encode_meta_value(value) for name, value in meta.items()}
        wire[f"x-amz-meta-{SHA256_META}"] = sha
        tags = self._tags(meta)

        def send() -> tuple[str, str]:
            src.seek(0)
            sending = _Sending(src, size, part_size, sha, self._where(key))
            result = self._client.put_object(
                bucket_name=self.bucket, object_name=key, data=sending, length=size, content_type=ctype,
                metadata=wire, tags=tags, part_size=part_size, num_parallel_uploads=1,
            )
            return result.etag, sending.etag()

        try:
            etag, expected = self._call("upload", send, key)
        except StoreUnavailable as exc:
            if size > part_size:
                exc.add_note(f"An unfinished multipart upload of {key!r} may be left on the server; its parts are "
                             "invisible and are removed by MinIO's stale-upload cleanup (api stale_uploads_expiry, "
                             "24 h by default) or a lifecycle rule.")
            raise
        if etag != expected:
            self._verify_by_reading(key, etag, sha, expected)
        return self._confirm(key, etag, size, sha, ctype, meta)

    def _verify_by_reading(self, key: str, etag: str, sha: str, expected_etag: str) -> None:
        """The ETag is not the expected MD5 (SSE-KMS, a gateway, or damage): hash what the server holds."""
        if self._etags_are_md5:
            log.info("object store %s: ETag %s of %s is not the expected %s; reading it back to verify",
                     self.endpoint, etag, key, expected_etag)
        held = self._call("read-back", lambda: self._read_sha(key, etag), key)
        if held is None:
            return  # replaced by a newer write meanwhile: nothing of ours left to check
        if held != sha:
            self._delete_if(key, etag)
            raise StoreIntegrityError("the stored object differs from the bytes sent; it was removed",
                                      path=self._where(key), hint="Store it again; if this repeats, check the server's disks")
        self._etags_are_md5 = False  # the bytes are right, so this server's ETags are just not MD5s

    def _confirm(self, key: str, etag: str, size: int, sha: str, ctype: str,
                 meta: dict[str, str]) -> ObjectInfo:
        """HEAD after the write: size, sha256 and metadata as sent (unless a newer write replaced it)."""
        try:
            st = self._call("check", lambda: self._stat(key), key)
        except ObjectNotFound:
            st = None  # deleted by someone else in between: our write did happen
        if st is None or st.etag != etag:
            return ObjectInfo(key, size, sha, ctype, dict(meta), None)
        stored_sha = (st.metadata or {}).get(f"x-amz-meta-{SHA256_META}")
        info = self._info(key, st) if stored_sha == sha else None
        if info is None or info.size != size or dict(info.metadata) != meta:
            lost = sorted(set(meta) - set(info.metadata)) if info else [SHA256_META]
            self._delete_if(key, etag)
            raise StoreIntegrityError(
                "the object store did not keep what was sent (size, sha256 or metadata"
                + (f"; missing: {', '.join(lost)}" if lost else "") + "); it was removed",
                path=self._where(key),
                hint="A proxy in front of MinIO may drop x-amz-meta-* headers with '_' (nginx: "
                     "underscores_in_headers on)",
            )
        return info

    def _delete_if(self, key: str, etag: str) -> None:
        with contextlib.suppress(Exception):
            if self._stat(key).etag == etag:
                self._client.remove_object(bucket_name=self.bucket, object_name=key)

    def delete(self, key: str) -> None:
        key_rules.validate_key(key)
        self._ensure_bucket()
        self._call("delete", lambda: self._client.remove_object(bucket_name=self.bucket, object_name=key), key)

    # -- reads -------------------------------------------------------------------------------

    def _info(self, key: str, st) -> ObjectInfo:
        meta: dict[str, str] = {}
        sha = None
        for name, value in (st.metadata or {}).items():
            low = name.lower()
            if not low.startswith("x-amz-meta-"):
                continue
            field_name = low[len("x-amz-meta-"):]
            if field_name == SHA256_META:
                sha = value
            else:
                meta[field_name] = decode_meta_value(value)
        if sha is None:  # put there by another tool: describe the bytes, as LocalStore does
            sha = self._hash_object(key)
        return ObjectInfo(
            key=key,
            size=int(st.size or 0),
            sha256=sha,
            content_type=st.content_type or key_rules.guess_content_type(key, None),
            metadata=meta,
            modified=st.last_modified,
        )

    def _stat(self, key: str):
        return self._client.stat_object(bucket_name=self.bucket, object_name=key)

    @contextlib.contextmanager
    def _response(self, key: str) -> Iterator[urllib3.BaseHTTPResponse]:
        """A GET of the object, its connection given back to the pool however the reading ends."""
        response = self._client.get_object(bucket_name=self.bucket, object_name=key)
        try:
            yield response
        finally:
            response.close()
            response.release_conn()

    def _read_sha(self, key: str, etag: str | None = None, out: BinaryIO | None = None) -> str | None:
        """SHA-256 of the object's bytes; None if it is no longer `etag`. Copied to `out` on the way,
        they must match the stored sha256 (else `_ReadMismatch`: read again)."""
        with self._response(key) as response:
            if etag and response.headers.get("etag", "").strip('"') != etag.strip('"'):
                return None
            digest = hashlib.sha256()
            for chunk in response.stream(MiB, decode_content=False):
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
            expected = response.headers.get(f"x-amz-meta-{SHA256_META}")
        if out is not None and expected and digest.hexdigest() != expected:
            raise _ReadMismatch("the bytes read differ from the stored sha256", path=self._where(key))
        return digest.hexdigest()

    def _hash_object(self, key: str) -> str:
        return self._call("read", lambda: self._read_sha(key), key)  # type: ignore[return-value]

    def stat(self, key: str) -> ObjectInfo:
        key_rules.validate_key(key)
        self._ensure_bucket()
        return self._info(key, self._call("stat", lambda: self._stat(key), key))

    def exists(self, key: str) -> bool:
        key_rules.validate_key(key)
        self._ensure_bucket()
        try:
            self._call("stat", lambda: self._stat(key), key)
        except ObjectNotFound:
            return False
        return True

    def open(self, key: str) -> BinaryIO:
        key_rules.validate_key(key)
        self._ensure_bucket()
        response = self._call("download", lambda: self._client.get_object(bucket_name=self.bucket, object_name=key),
                              key)
        sha = response.headers.get(f"x-amz-meta-{SHA256_META}")
        raw = _ObjectReader(response, self._where(key), sha, self.endpoint)
        return io.BufferedReader(raw, buffer_size=MiB)  # type: ignore[return-value]

    def get_bytes(self, key: str) -> bytes:
        key_rules.validate_key(key)
        self._ensure_bucket()

        def run() -> bytes:
            with self._response(key) as response:
                data = response.read(decode_content=False)
                expected = response.headers.get(f"x-amz-meta-{SHA256_META}")
            if expected and hashlib.sha256(data).hexdigest() != expected:
                raise _ReadMismatch("the bytes read differ from the stored sha256", path=self._where(key))
            return data

        return self._call("download", run, key)

    def download(self, key: str, dest_path: str | Path, *, etag: str | None = None,
                 size: int | None = None) -> Path:
        """As `ObjectStore.download`; given the `etag` and `size` a listing showed, the object must
        still be that one (an object replaced since it was listed is refused, not half-taken)."""
        key_rules.validate_key(key)
        self._ensure_bucket()
        dest = Path(dest_path)

        def run() -> Path:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.parent / f"{key_rules.RESERVED_PREFIX}tmp-{secrets.token_hex(8)}"
            try:
                with open(tmp, "xb") as out:
                    if self._read_sha(key, etag, out) is None:
                        raise S3StoreError("the object changed since it was listed", path=self._where(key),
                                           hint="Run again once it is no longer being written")
                    out.flush()
                    os.fsync(out.fileno())
                if size is not None and tmp.stat().st_size != size:
                    raise _ReadMismatch("the object read is not the size listed", path=self._where(key))
                os.replace(tmp, dest)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            return dest

        return self._call("download", run, key)

    def list(self, prefix: str = "") -> Iterator[str]:
        key_rules.validate_prefix(prefix)
        self._ensure_bucket()
        return (entry.key for entry in self._list(prefix, recursive=True))

    def entries(self, prefix: str = "", recursive: bool = True) -> Iterator[Listed]:
        """Objects under `prefix` with the size, ETag and LastModified the listing gives (no HEAD per
        object); one level only (`recursive=False`) also yields the "folders" below it."""
        key_rules.validate_prefix(prefix)
        self._ensure_bucket()
        return self._list(prefix, recursive)

    def has_bucket(self) -> bool:
        """True if the bucket exists (checked without creating it, unlike every other call)."""
        return bool(self._call("bucket check", lambda: self._client.bucket_exists(bucket_name=self.bucket)))

    def copy(self, source_key: str, key: str) -> None:
        """Server-side copy within the bucket, metadata kept (sources up to 5 GiB): moving = copy, delete."""
        key_rules.validate_key(source_key)
        key_rules.validate_key(key)
        self._ensure_bucket()
        self._call("copy", lambda: self._client.copy_object(bucket_name=self.bucket, object_name=key,
                                                            source=CopySource(self.bucket, source_key)),
                   source_key)

    def _list(self, prefix: str, recursive: bool) -> Iterator[Listed]:
        """Entries in S3's (UTF-8 byte) order, a page at a time; each page is one request under the
        retry policy, asked from the last key seen, so a failure never restarts the listing.

        Keys the store would refuse (a console's `folder/` markers, `a//b`) are left out, as every
        key listed must be one `get_bytes()` and `delete()` accept.
        """
        last: str | None = None
        folders: set[str] = set()  # one level: a page asked again may name a folder again
        while True:
            page = self._call("listing", lambda after=last: self._list_page(prefix, recursive, after))
            for obj in page:
                name = last = obj.object_name
                folder = obj.is_dir and not recursive and name != prefix  # not a console's marker object
                try:
                    key_rules.validate_key(name[:-1] if folder else name)
                except key_rules.InvalidKey:  # e.g. a console "folder/" marker: not addressable through the store
                    log.debug("object store %s: listing skips key %r", self.endpoint, name)
                    continue
                if folder:
                    if name not in folders:
                        folders.add(name)
                        yield Listed(name, is_folder=True)
                else:
                    yield Listed(name, int(obj.size or 0), (obj.etag or "").strip('"'), obj.last_modified)
            if len(page) < LIST_PAGE:
                return

    def _list_page(self, prefix: str, recursive: bool, after: str | None) -> list:
        """Up to LIST_PAGE entries after `after` (one ListObjectsV2 request); none if the bucket is gone."""
        try:
            return list(islice(self._client.list_objects(bucket_name=self.bucket, prefix=prefix or None,
                                                         recursive=recursive, start_after=after), LIST_PAGE))
        except S3Error as exc:
            if exc.code != "NoSuchBucket":
                raise
            self._ready = False  # deleted under us: the next write creates it again
            return []

    def uri(self, key: str) -> str:
        key_rules.validate_key(key)
        return f"s3://{self.bucket}/{quote(key, safe='/')}"

    # -- S3 extras -------------------------------------------------------------------------------

    def tags(self, key: str) -> dict[str, str]:
        """The object's tags (the `tag_fields` of its metadata, as S3 tags)."""
        key_rules.validate_key(key)
        self._ensure_bucket()
        tags = self._call("tag read", lambda: self._client.get_object_tags(bucket_name=self.bucket, object_name=key),
                          key)
        return dict(tags or {})

    def presigned_url(self, key: str, expires_s: int = 3600, filename: str | None = None) -> str:
        """A GET URL anyone can use for `expires_s` seconds (1 s – 7 days), e.g. for a browser.

        `filename` makes browsers save it under that (Vietnamese) name. The URL names the endpoint
        as configured, so clients must reach MinIO at that address.
        """
        key_rules.validate_key(key)
        if not 1 <= int(expires_s) <= 7 * 24 * 3600:
            raise ValueError("expires_s must be between 1 second and 7 days")
        headers = None
        if filename:
            headers = {"response-content-disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}"}
        self._ensure_bucket()
        return self._call("URL signing", lambda: self._client.presigned_get_object(
            bucket_name=self.bucket, object_name=key, expires=timedelta(seconds=int(expires_s)),
            response_headers=headers), key)
