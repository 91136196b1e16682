"""SigV4 verification with botocore's own signer.

The emulator recomputes the signature of the received request with
:class:`botocore.auth.SigV4Auth` over exactly the headers the client listed in
``SignedHeaders``, the client's ``X-Amz-Date`` and credential scope (any region), using
the configured secret, and compares in constant time. The request time is not checked
against the clock (emulated clocks may run far ahead).

Errors (as AWS answers them): no or non-SigV4 ``Authorization`` header:
MissingAuthenticationTokenException (403); unknown access key ID:
UnrecognizedClientException (403); signature mismatch: InvalidSignatureException (403).
"""

from __future__ import annotations

import hmac
import re
from typing import Iterable, Mapping, Tuple

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from . import exceptions as exc

__all__ = ["verify_sigv4"]

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)


class _Verifier(SigV4Auth):
    """SigV4Auth restricted to the headers the client signed."""

    def __init__(self, credentials: Credentials, service: str, region: str, signed: Iterable[str]) -> None:
        super().__init__(credentials, service, region)
        self._signed = list(signed)

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name in self._signed:
            value = request.headers.get(name)
            if value is not None:
                header_map[name] = value
        return header_map


def verify_sigv4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    access_key_id: str,
    secret_access_key: str,
) -> Tuple[str, str]:
    """Verify a request's SigV4 signature.

    :param url: the URL as the client saw it: ``http://host:port`` + raw path + ``?query``.
    :returns: ``(access_key_id, region)`` of the credential scope.
    :raises MissingAuthenticationTokenException, UnrecognizedClientException,
        InvalidSignatureException: see the module docstring.
    """
    auth = headers.get("Authorization")
    if not auth:
        raise exc.MissingAuthenticationTokenException("Missing Authentication Token")
    m = _AUTH_RE.match(auth.strip())
    if not m:
        raise exc.MissingAuthenticationTokenException(
            "Authorization header is not a valid AWS4-HMAC-SHA256 signature; sign requests with SigV4")
    if m["key"] != access_key_id:
        raise exc.UnrecognizedClientException("The security token included in the request is invalid.")
    amz_date = headers.get("X-Amz-Date")
    if not amz_date:
        raise exc.MissingAuthenticationTokenException("X-Amz-Date header is missing; sign requests with SigV4")
    signed = m["headers"].split(";")
    request = AWSRequest(method=method, url=url, data=body, headers={k: v for k, v in headers.items()})
    request.context["timestamp"] = amz_date
    verifier = _Verifier(Credentials(access_key_id, secret_access_key), m["service"], m["region"], signed)
    canonical = verifier.canonical_request(request)
    expected = verifier.signature(verifier.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, m["sig"]):
        raise exc.InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.")
    return m["key"], m["region"]
