"""The HTTP side the SageMaker inference scripts share (``datalake.models.inference_http``).

The error bodies are a contract: the API's endpoint backend reads ``field`` from every model's 400
and ``reason`` from the store-sales one, so each script must keep exactly the body keys it had.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from datalake.models.inference_http import JSON, InferenceError, media_type, read_json, write_json

REPO = Path(__file__).resolve().parents[2]
#: Each script and the keys of its error body.
SCRIPT_BODY_KEYS = {
    "inference": ["error", "field"],
    "movie_success_inference": ["error", "field"],
    "fx_signal_inference": ["error", "field"],
    "sales_inference": ["error", "field", "reason"],
}


class WithReason(InferenceError):
    reason_in_body = True


def test_the_body_names_the_field_and_carries_reason_only_when_asked() -> None:
    plain = InferenceError(400, "unknown store 99", "rows[1].store_id")
    assert json.loads(plain.message) == {
        "error": "rows[1].store_id: unknown store 99",
        "field": "rows[1].store_id",
    }
    assert plain.phrase == plain.message and plain.reason == "unknown store 99"
    assert str(plain) == f"400: {plain.message}"
    assert json.loads(InferenceError(503, "database down").message) == {
        "error": "database down",
        "field": None,
    }
    assert json.loads(WithReason(400, "bad", "f").message) == {
        "error": "f: bad",
        "field": "f",
        "reason": "bad",
    }


def test_read_json_decodes_json_and_refuses_other_media_and_bad_bodies() -> None:
    assert media_type("Application/JSON; charset=utf-8") == JSON and media_type(None) == ""
    assert read_json(b'{"rows": [1]}', "application/json; charset=utf-8") == {"rows": [1]}
    with pytest.raises(WithReason) as refused:
        read_json("{}", "text/csv", WithReason)
    assert refused.value.status_code == 415 and refused.value.field == "Content-Type"
    assert "reason" in json.loads(refused.value.message)
    for body in (b"\xff", "{not json"):
        with pytest.raises(InferenceError) as bad:
            read_json(body, JSON)
        assert bad.value.status_code == 400 and bad.value.field == "body"
        assert bad.value.reason.startswith("not valid UTF-8 JSON")


def test_write_json_answers_any_accept_that_admits_json() -> None:
    for accept in (None, "", "*/*", "application/*", "application/json; q=1"):
        assert write_json({"a": 1}, accept) == ('{"a": 1}', JSON)
    with pytest.raises(InferenceError) as refused:
        write_json({}, "text/csv")
    assert refused.value.status_code == 406 and refused.value.field == "Accept"


@pytest.mark.parametrize("script", sorted(SCRIPT_BODY_KEYS))
def test_each_script_keeps_its_error_body(script: str) -> None:
    # The script's globals, as the serving toolkit finds its handlers.
    handlers = runpy.run_path(str(REPO / "sagemaker" / f"{script}.py"))
    for refuse, status in (
        (lambda: handlers["input_fn"]("x", "text/csv"), 415),
        (lambda: handlers["output_fn"]({}, "text/csv"), 406),
    ):
        with pytest.raises(handlers["InferenceError"]) as refused:
            refuse()
        assert refused.value.status_code == status
        assert list(json.loads(refused.value.message)) == SCRIPT_BODY_KEYS[script]
