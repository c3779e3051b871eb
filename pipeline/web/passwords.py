"""Password hashing for staff accounts: Argon2id (argon2-cffi, its recommended parameters).

Only the hash is stored (users.password_hash, a PHC string with its own salt and parameters), so
raising the cost later re-hashes each password at its next log-in (`needs_rehash`).
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


def check_strength(password: str) -> str | None:
    """Why a new password is refused (Vietnamese, shown to staff), or None."""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự."
    if password.strip() != password:
        return "Mật khẩu không được bắt đầu hay kết thúc bằng dấu cách."
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches; an unknown user is checked against a dummy hash, so the time
    taken does not tell whether the name exists."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def new_password() -> str:
    """A random first password (printed once by `sohoa user create` / `make demo`)."""
    return secrets.token_urlsafe(12)
