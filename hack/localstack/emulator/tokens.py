"""ServiceAccount tokens the emulator mints and recognises; stateful (in memory), no I/O.

The emulator's authentication, as documented for its users:

- A token minted through the TokenRequest API (POST .../serviceaccounts/NAME/token) is the
  ServiceAccount's identity (`rbac.service_account_user`) until its
  expirationSeconds have passed or its ServiceAccount is gone (deleted, or deleted and made
  again: the token is bound to the account's uid, as the API server's bound tokens are). Then
  every request with it is 401 Unauthorized, whatever its path. As on the API server
  (kubernetes/kubernetes pkg/serviceaccount/claims.go `validator.Validate`: go-jose's
  `Claims.Validate` with its one-minute `DefaultLeeway`), a token is still accepted for a
  minute after its expiry, and an account marked for deletion less than a minute ago still
  authenticates.
- Requests without a token, and requests with any token the emulator did not mint (the admin
  kubeconfig's, tests' planted ones), are administrators: allowed everything, never evaluated.

The 401 body is the API server's: `apierrors.NewUnauthorized("Unauthorized")`, written by
k8s.io/apiserver v0.32.0 pkg/endpoints/filters/authentication.go `Unauthorized`.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets

from kmock import KubernetesError

PREFIX = "emulator-token."
# pkg/apis/authentication/validation/validation.go ValidateTokenRequest (MinTokenAgeSec).
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32
DEFAULT_EXPIRATION_SECONDS = 3600
# go-jose jwt.DefaultLeeway, which claims.go applies to expiry and deletion.
LEEWAY = datetime.timedelta(minutes=1)
# Expired tokens are forgotten when this many are held.
_PRUNE_AT = 1000


@dataclasses.dataclass(frozen=True)
class MintedToken:
    """Whom a minted token names, and until when."""

    namespace: str
    name: str
    uid: str
    expires: datetime.datetime


def unauthorized() -> KubernetesError:
    return KubernetesError(status=401, reason="Unauthorized", message="Unauthorized", details={})


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class TokenRegistry:
    """The tokens minted so far."""

    def __init__(self) -> None:
        self._tokens: dict[str, MintedToken] = {}

    def mint(
        self,
        namespace: str,
        name: str,
        uid: str,
        *,
        now: datetime.datetime,
        expires: datetime.datetime,
    ) -> str:
        """A new token for the ServiceAccount; its text names the account (for tests)."""
        if len(self._tokens) >= _PRUNE_AT:
            self._forget_expired(now)
        token = f"{PREFIX}{namespace}.{name}.{secrets.token_hex(16)}"
        self._tokens[token] = MintedToken(namespace, name, uid, expires)
        return token

    def _forget_expired(self, now: datetime.datetime) -> None:
        self._tokens = {
            token: minted
            for token, minted in self._tokens.items()
            if minted.expires + LEEWAY >= now
        }

    def lookup(self, authorization: str | None) -> MintedToken | None:
        """The minted token the header carries; None for no token or one not minted here.

        The prefix check keeps an administrator's request to one string comparison."""
        token = bearer_token(authorization)
        if token is None or not token.startswith(PREFIX):
            return None
        return self._tokens.get(token)
