"""Issue 14, findings 10-11 on S3 (the moto server): the ingest_csv Lambda as AWS runs it."""

from __future__ import annotations

import copy
import json

import pytest

from datalake import aws
from datalake.settings import Settings, get_settings

DAY = "year=2024/month=06/day=03"
CLIENTES = "tipo_identificacion;identificacion;nombre;ciudad\nCC;1.020.304;José Pérez;Bogotá\n"


@pytest.fixture
def s3(moto_settings: Settings, monkeypatch):
    """An S3 client on the moto server, with the landing and lake buckets, and the Lambda's env."""
    monkeypatch.setenv("LAKE_RUNTIME", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_settings.aws_endpoint_url or "")
    get_settings.cache_clear()
    client = aws.client("s3", settings=moto_settings)
    for bucket in (moto_settings.landing_bucket, moto_settings.lake_bucket):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client


def event_for(event_json, key: str) -> dict:
    """The recorded landing event, for ``key`` (URL-encoded as S3 sends it)."""
    from urllib.parse import quote_plus

    event = copy.deepcopy(event_json("s3_landing_object_created.json"))
    event["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="/")
    return event


def lake_objects(s3, settings: Settings, prefix: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=settings.lake_bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=settings.lake_bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_finding_10_big_drop_rejected_too_large_on_s3(
    s3, moto_settings, monkeypatch, load_lambda, event_json
) -> None:
    monkeypatch.setenv("LANDING_MAX_BYTES", "4096")
    get_settings.cache_clear()
    body = CLIENTES.encode() + b"CC;1;Ana;Cali\n" * 1_000  # valid, but over the limit
    s3.put_object(Bucket=moto_settings.landing_bucket, Key="extractos/big.csv", Body=body)
    summary = load_lambda("ingest_csv").lambda_handler(event_for(event_json, "extractos/big.csv"), None)
    assert summary["details"]["rejected"] == {"too_large": 1}
    rejected = lake_objects(s3, moto_settings, "rejected/")
    (record_key,) = rejected  # the record only: the drop was neither read nor copied
    record = json.loads(rejected[record_key])
    assert record_key.startswith(f"rejected/energy_company/{DAY}/") and record_key.endswith(".reason.json")
    assert (record["reason"], record["bytes"], record["copy"]) == ("too_large", len(body), None)
    assert lake_objects(s3, moto_settings, "raw/") == {}


def test_finding_11_same_named_drops_on_the_same_day_are_both_kept_on_s3(
    s3, moto_settings, load_lambda, event_json
) -> None:
    import hashlib

    handler = load_lambda("ingest_csv")
    first = CLIENTES.encode()
    second = CLIENTES.encode() + "CC;556677;María López;Cali\n".encode()
    for body in (first, second, second):  # the last one is the same event delivered again
        s3.put_object(Bucket=moto_settings.landing_bucket, Key="extractos/clientes.csv", Body=body)
        summary = handler.lambda_handler(event_for(event_json, "extractos/clientes.csv"), None)
        assert summary["details"]["accepted"] == {"clientes": 1}
    folder = f"raw/energy_company/clientes/{DAY}"
    assert lake_objects(s3, moto_settings, "raw/") == {
        f"{folder}/clientes.{hashlib.sha256(body).hexdigest()[:16]}.csv": body for body in (first, second)
    }
    for key in lake_objects(s3, moto_settings, "raw/"):  # copied server-side, typed as CSV
        assert s3.head_object(Bucket=moto_settings.lake_bucket, Key=key)["ContentType"] == "text/csv"
