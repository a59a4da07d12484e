from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from datalake import runtime, types
from datalake.catalog.local import LocalCatalog
from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore


def test_settings_read_every_documented_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_RUNTIME", "aws")
    monkeypatch.setenv("LAKE_ROOT", "/tmp/somewhere")
    monkeypatch.setenv("LAKE_BUCKET", "my-lake")
    monkeypatch.setenv("RAW_DATABASE", "r_db")
    monkeypatch.setenv("PROCESSED_DATABASE", "p_db")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    settings = Settings(_env_file=None)
    assert settings.lake_runtime == "aws"
    assert settings.lake_root == Path("/tmp/somewhere")
    assert (settings.lake_bucket, settings.raw_database, settings.processed_database) == (
        "my-lake",
        "r_db",
        "p_db",
    )
    assert settings.aws_region == "us-east-2"
    assert settings.aws_endpoint_url == "http://127.0.0.1:5000"
    assert settings.database_url == "postgresql://u@h:5432/d"


def test_blank_optional_urls_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    monkeypatch.setenv("DATABASE_URL", "  ")
    settings = Settings(_env_file=None)
    assert settings.aws_endpoint_url is None
    assert settings.database_url is None


def test_unknown_runtime_is_rejected_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_RUNTIME", "gcp")
    with pytest.raises(ValueError, match="lake_runtime"):
        Settings(_env_file=None)


def test_env_example_lists_every_setting() -> None:
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")
    }
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_runtime_picks_local_adapters(lake_settings: Settings) -> None:
    store = runtime.object_store("lake", lake_settings)
    assert isinstance(store, LocalObjectStore)
    assert store.root == lake_settings.lake_root.resolve()
    assert (
        runtime.object_store("landing", lake_settings).root == (lake_settings.lake_root / "landing").resolve()
    )
    assert isinstance(runtime.catalog(lake_settings), LocalCatalog)
    assert runtime.query_engine(lake_settings).name == "duckdb"


def test_runtime_picks_aws_adapters() -> None:
    settings = Settings(_env_file=None, lake_runtime="aws", aws_endpoint_url="http://127.0.0.1:9")
    store = runtime.object_store("lake", settings)
    assert store.uri("raw/x.json") == "s3://datalake-dev-lake/raw/x.json"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert runtime.query_engine(settings).name == "athena"


@pytest.mark.parametrize(
    "glue_type",
    [
        "string",
        "bigint",
        "double",
        "timestamp",
        "date",
        "decimal(10,2)",
        "array<struct<value:double,datetime:string>>",
        "struct<data:struct<id:string>,included:array<string>>",
        "map<string,bigint>",
    ],
)
def test_glue_types_round_trip_through_arrow(glue_type: str) -> None:
    assert types.from_arrow(types.to_arrow(glue_type)) == types.normalise(glue_type)


def test_timestamps_are_utc_everywhere() -> None:
    assert types.to_arrow("timestamp") == pa.timestamp("us", tz="UTC")
    assert types.to_postgres("timestamp") == "timestamptz"
    assert types.to_duckdb("timestamp") == "TIMESTAMPTZ"


def test_nested_duckdb_types_quote_member_names() -> None:
    nested = "struct<last-update:string,values:array<struct<value:double>>>"
    assert types.to_duckdb(nested) == 'STRUCT("last-update" VARCHAR, "values" STRUCT("value" DOUBLE)[])'
    assert types.to_duckdb("map<string,bigint>") == "MAP(VARCHAR, BIGINT)"


def test_widening_rules() -> None:
    assert types.can_widen("int", "bigint") and types.widest("int", "bigint") == "bigint"
    assert types.can_widen("bigint", "int") and types.widest("bigint", "int") == "bigint"
    assert types.can_widen("bigint", "double")
    assert not types.can_widen("bigint", "string")
    assert not types.can_widen("string", "double")
    assert not types.can_widen("timestamp", "bigint")


def test_unknown_type_is_named() -> None:
    with pytest.raises(ValueError, match="geometry"):
        types.to_arrow("geometry")
