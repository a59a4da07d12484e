"""The HTTP side shared by the SageMaker inference scripts: JSON in, JSON out, errors with a status.

Every endpoint's ``code/`` carries a copy of ``datalake``
(:func:`datalake.models.bundle.build_source_bundle`), so the scripts in ``sagemaker/`` import this
module once their ``sys.path`` set-up has made the package importable. A content type other than
JSON is refused with a 415, a body that is not UTF-8 JSON with a 400 naming ``body``, an ``Accept``
that rules JSON out with a 406.

An error's JSON body is ``{"error", "field"}``. An endpoint whose caller reads the bare reason
(the store-sales one: the API's 422 takes it) raises a subclass that sets
:attr:`InferenceError.reason_in_body`, and passes that class to :func:`read_json` and
:func:`write_json` so that its 415, 400 and 406 carry ``reason`` too.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

#: The one media type the endpoints read and write.
JSON = "application/json"
#: ``Accept`` values a JSON answer satisfies (an empty one accepts anything).
JSON_ACCEPTS = ("", "*/*", "application/*", JSON)

try:
    # The serving toolkit turns these into HTTP responses with their status code.
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:  # outside the container

    class _ToolkitError(Exception):  # type: ignore[no-redef]
        """What the toolkit's error holds: the status, the body and the status line's phrase."""

        def __init__(self, status_code: int, message: str, phrase: str) -> None:
            super().__init__(status_code, message, phrase)
            self.status_code, self.message, self.phrase = status_code, message, phrase


class InferenceError(_ToolkitError):
    """An error answered with ``status_code`` and a JSON body ``{"error", "field"}``.

    ``error`` is the reason, prefixed with the field when there is one. A subclass that sets
    :attr:`reason_in_body` adds ``"reason"`` (the reason alone) to the body.

    Parameters
    ----------
    status_code
        HTTP status of the answer (400, 406, 415, 503, ...).
    reason
        What is wrong, for the caller.
    field
        The request field at fault (``rows[3].store_id``, ``Content-Type``), or None.
    """

    #: Whether the body carries ``"reason"`` beside ``"error"`` and ``"field"``.
    reason_in_body: ClassVar[bool] = False

    def __init__(self, status_code: int, reason: str, field: str | None = None) -> None:
        body_fields: dict[str, Any] = {
            "error": reason if field is None else f"{field}: {reason}",
            "field": field,
        }
        if self.reason_in_body:
            body_fields["reason"] = reason
        body = json.dumps(body_fields)
        super().__init__(status_code, body, body)
        self.reason, self.field = reason, field

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a ``Content-Type`` or ``Accept`` header (parameters dropped).

    Parameters
    ----------
    content_type
        The header's value, or None when it was not sent.

    Returns
    -------
    str
        ``"application/json"`` for ``"Application/JSON; charset=utf-8"``; ``""`` for None.
    """
    return (content_type or "").split(";")[0].strip().lower()


def read_json(
    request_body: str | bytes,
    request_content_type: str | None,
    error: type[InferenceError] = InferenceError,
) -> Any:
    """Decode a JSON request body, refusing any other content type.

    Parameters
    ----------
    request_body
        The body as the toolkit hands it (bytes in the container, str in tests).
    request_content_type
        The request's ``Content-Type``.
    error
        The endpoint's :class:`InferenceError` class, raised on a refusal.

    Returns
    -------
    Any
        The decoded JSON value (the script validates its shape).

    Raises
    ------
    InferenceError
        415 naming ``Content-Type`` for another media type; 400 naming ``body`` when the body is
        not UTF-8 JSON.
    """
    if media_type(request_content_type) != JSON:
        raise error(415, f"unsupported content type {request_content_type!r}; send {JSON}", "Content-Type")
    try:
        text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as decode_error:
        raise error(400, f"not valid UTF-8 JSON: {decode_error}", "body") from None


def write_json(
    prediction: dict[str, Any],
    accept: str | None,
    error: type[InferenceError] = InferenceError,
) -> tuple[str, str]:
    """Serialise an answer to JSON, refusing an ``Accept`` that rules JSON out.

    Parameters
    ----------
    prediction
        What the script's ``predict_fn`` returned.
    accept
        The request's ``Accept`` (None or empty accepts anything).
    error
        The endpoint's :class:`InferenceError` class, raised on a refusal.

    Returns
    -------
    tuple of (str, str)
        The JSON text and its content type, as ``output_fn`` returns them to the toolkit.

    Raises
    ------
    InferenceError
        406 naming ``Accept``.
    """
    if media_type(accept) not in JSON_ACCEPTS:
        raise error(406, f"cannot answer in {accept!r}; accept {JSON}", "Accept")
    return json.dumps(prediction), JSON
