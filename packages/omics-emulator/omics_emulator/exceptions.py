"""Errors the emulator answers with, one class per error shape.

Tree::

    EmulatorServiceError            an AWS error response (code, HTTP status, message)
    +-- ValidationException         400  (model shape)
    +-- AccessDeniedException       403  (model shape)
    +-- ResourceNotFoundException   404  (model shape)
    +-- ConflictException           409  (model shape; not listed for the operations we emulate)
    +-- RequestTimeoutException     408  (model shape)
    +-- ServiceQuotaExceededException 402 (model shape)
    +-- ThrottlingException         429  (model shape)
    +-- InternalServerException     500  (model shape)
    +-- MissingAuthenticationTokenException 403 (AWS front door, not in the model)
    +-- UnrecognizedClientException 403 (AWS front door)
    +-- InvalidSignatureException   403 (AWS front door)
    +-- ExpiredTokenException       403 (AWS front door: the session token has expired)
    +-- UnknownOperationException   404 (AWS front door)
    SeedError (ValueError)          a malformed seed; names the entry and the fix

HTTP statuses of the model's error shapes are read from botocore's service model
(``error.httpStatusCode``), not copied by hand.
"""

from __future__ import annotations

from .model import error_status

__all__ = [
    "EmulatorServiceError",
    "ValidationException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ConflictException",
    "RequestTimeoutException",
    "ServiceQuotaExceededException",
    "ThrottlingException",
    "InternalServerException",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "UnknownOperationException",
    "SeedError",
]


class EmulatorServiceError(Exception):
    """An error the emulator returns as an AWS rest-json error response.

    :ivar code: the error type (``x-amzn-ErrorType``), e.g. ``"ValidationException"``.
    :ivar status: the HTTP status code.
    :ivar message: the human readable message (``{"message": ...}`` in the body).
    """

    code: str = "InternalServerException"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _model_error(name: str) -> type:
    return type(name, (EmulatorServiceError,), {"code": name, "status": error_status(name)})


ValidationException = _model_error("ValidationException")
AccessDeniedException = _model_error("AccessDeniedException")
ResourceNotFoundException = _model_error("ResourceNotFoundException")
ConflictException = _model_error("ConflictException")
RequestTimeoutException = _model_error("RequestTimeoutException")
ServiceQuotaExceededException = _model_error("ServiceQuotaExceededException")
ThrottlingException = _model_error("ThrottlingException")
InternalServerException = _model_error("InternalServerException")


class MissingAuthenticationTokenException(EmulatorServiceError):
    """No (or a non SigV4) Authorization header."""

    code = "MissingAuthenticationTokenException"
    status = 403


class UnrecognizedClientException(EmulatorServiceError):
    """The access key ID is not the configured one."""

    code = "UnrecognizedClientException"
    status = 403


class InvalidSignatureException(EmulatorServiceError):
    """The SigV4 signature does not match the configured secret."""

    code = "InvalidSignatureException"
    status = 403


class ExpiredTokenException(EmulatorServiceError):
    """The request's session token has expired (the fault ``expire_credentials_at_s``)."""

    code = "ExpiredTokenException"
    status = 403


class UnknownOperationException(EmulatorServiceError):
    """No operation of the model matches the method and path."""

    code = "UnknownOperationException"
    status = 404


class SeedError(ValueError):
    """A seed file or dict is malformed; the message names the entry, value and fix."""
