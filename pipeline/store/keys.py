"""Key rules, checked once for all backends: a key accepted by one backend is accepted by every
other, and no key can name a file outside the store."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping

MAX_KEY_BYTES = 1024
"""S3's limit on a key's UTF-8 length; enforced everywhere so local keys stay portable."""

RESERVED_PREFIX = ".sohoa-"
"""Key segments starting with this are the store's own (temp files); callers may not use them."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_META_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InvalidKey(ValueError):
    """A key (or prefix, bucket, metadata name) that could escape the store or is not portable."""


def _check_chars(text: str, what: str) -> None:
    if "\\" in text:
        raise InvalidKey(f"{what} {text!r}: backslashes are not allowed (use '/')")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidKey(f"{what} {text!r}: control characters are not allowed")
    if text.startswith("/"):
        raise InvalidKey(f"{what} {text!r}: must be relative (no leading '/')")


def validate_key(key: str) -> str:
    """Return `key` unchanged if every backend can store it safely, else raise `InvalidKey`.

    Refused: empty, absolute, backslashes, control characters (incl. NUL), `.`/`..`/empty segments
    (they alias or escape on a file system), segments in the store's reserved namespace, and keys
    longer than 1024 UTF-8 bytes.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key must be a non-empty string")
    _check_chars(key, "object key")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates
        raise InvalidKey(f"object key {key!r}: not valid Unicode") from exc
    if size > MAX_KEY_BYTES:
        raise InvalidKey(f"object key is {size} bytes long; the limit is {MAX_KEY_BYTES}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(f"object key {key!r}: empty, '.' and '..' path segments are not allowed")
        if segment.startswith(RESERVED_PREFIX):
            raise InvalidKey(f"object key {key!r}: segments starting with {RESERVED_PREFIX!r} are reserved")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: like a key, but may be empty or end in '/' or in a partial segment."""
    if not isinstance(prefix, str):
        raise InvalidKey("prefix must be a string")
    if not prefix:
        return prefix
    _check_chars(prefix, "prefix")
    if len(prefix.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"prefix is longer than {MAX_KEY_BYTES} bytes")
    directories = prefix.split("/")[:-1]  # the last piece is a partial name and only filters
    if any(segment in ("", ".", "..") for segment in directories):
        raise InvalidKey(f"prefix {prefix!r}: empty, '.' and '..' path segments are not allowed")
    return prefix


def validate_bucket(bucket: str) -> str:
    """S3 bucket naming rules, so a local bucket can later move to MinIO under the same name."""
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidKey(
            f"bucket {bucket!r}: use 3-63 lower-case letters, digits, '.' or '-', starting and ending "
            "with a letter or digit"
        )
    return bucket


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Copy of `metadata` with lower-case names (S3 lower-cases them too); values are kept as given.

    Names must be HTTP-header safe (`a-z0-9_-`); values may be any text, Vietnamese included —
    a backend that cannot carry non-ASCII values natively must encode them itself.
    """
    if not metadata:
        return {}
    out: dict[str, str] = {}
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidKey(f"metadata {name!r}: names and values must be strings")
        low = name.lower()
        if not _META_KEY.match(low):
            raise InvalidKey(f"metadata name {name!r}: use letters, digits, '_' or '-'")
        if low in out:
            raise InvalidKey(f"metadata name {name!r} given twice (names are case-insensitive)")
        out[low] = value
    return out


def guess_content_type(key: str, content_type: str | None) -> str:
    """The given type, else one guessed from the key's extension, so PDFs open in a browser."""
    if content_type:
        return content_type
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE
