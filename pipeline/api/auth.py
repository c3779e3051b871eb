"""API-key checks for the endpoints: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

Every failure to authenticate — no key, a malformed one, an unknown id, a wrong secret, a revoked
key — gets the same 401 and the same message, so a caller learns nothing about which keys exist.
A valid key without the scope an endpoint needs gets 403.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from pipeline.api.keys import ApiKey, ApiKeyStore

UNAUTHORIZED = "invalid or missing API key"

bearer = HTTPBearer(auto_error=False, scheme_name="bearer", bearerFormat="sohoa_<id>_<secret>",
                    description="`Authorization: Bearer sohoa_<id>_<secret>` (`sohoa apikey create`)")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey",
                              description="the same key in an `X-API-Key` header")


def unauthorized() -> HTTPException:
    return HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": 'Bearer realm="sohoa"'})


def require(scope: str) -> Callable[..., ApiKey]:
    """A dependency that answers 401/403 unless the request carries a key allowed `scope`."""

    def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),  # noqa: B008
        header_key: str | None = Security(api_key_header),  # noqa: B008
    ) -> ApiKey:
        presented = credentials.credentials if credentials is not None else header_key
        keys: ApiKeyStore = request.app.state.keys
        key = keys.verify(presented.strip() if presented else None)
        if key is None:
            raise unauthorized()
        if not key.allows(scope):
            raise HTTPException(403, f"this API key has scope '{key.scope}'; this needs '{scope}'")
        request.state.api_key_id = key.id
        return key

    check.__name__ = f"require_{scope}"
    return check
