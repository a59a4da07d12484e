"""Warehouse DDL generated from dataset specs, and the URL helpers; no server needed."""

from __future__ import annotations

import dataclasses

import pytest

from datalake.datasets import DEMAND_HOURLY
from datalake.datasets.spec import ColumnSpec, DatasetSpec
from datalake.errors import ConfigurationError
from datalake.warehouse import (
    create_table_sql,
    describe_target,
    make_url,
    reader_url,
    redact_url,
    table_name,
)
from datalake.warehouse.ddl import column_definition
from datalake.warehouse.server import _last_error_line

EXPECTED_DEMAND_DDL = """\
CREATE TABLE IF NOT EXISTS "public"."demand_hourly" (
    "ts_utc" timestamptz NOT NULL,
    "local_date" date NOT NULL,
    "region" text NOT NULL,
    "demand_mw" double precision NOT NULL,
    "source" text NOT NULL,
    "tso_forecast_mw" double precision,
    "extracted_at" timestamptz NOT NULL,
    PRIMARY KEY ("ts_utc", "region", "source")
)"""


def test_demand_hourly_ddl_is_generated_from_the_spec() -> None:
    assert create_table_sql(DEMAND_HOURLY).as_string() == EXPECTED_DEMAND_DDL


def test_partition_columns_are_not_warehouse_columns() -> None:
    ddl = create_table_sql(DEMAND_HOURLY).as_string()
    assert [p.name for p in DEMAND_HOURLY.partition_by] == ["year", "month"]
    assert '"year"' not in ddl
    assert '"month"' not in ddl


def test_schema_and_table_are_quoted_identifiers() -> None:
    ddl = create_table_sql(DEMAND_HOURLY, schema="Serving").as_string()
    assert ddl.startswith('CREATE TABLE IF NOT EXISTS "Serving"."demand_hourly" (')


def test_hostile_names_cannot_break_out_of_identifiers() -> None:
    spec = DatasetSpec(
        name="odd",
        description="",
        columns=(
            ColumnSpec('id"; DROP TABLE x; --', "bigint", False),
            ColumnSpec("price", "decimal(10, 2)"),
            ColumnSpec("flag", "boolean"),
        ),
        primary_key=('id"; DROP TABLE x; --',),
        warehouse_table='t"x',
    )
    ddl = create_table_sql(spec).as_string()
    # Embedded double quotes are doubled, so every name stays one identifier.
    assert '"public"."t""x"' in ddl
    assert '"id""; DROP TABLE x; --" bigint NOT NULL' in ddl
    assert '"price" numeric(10,2),' in ddl
    assert '"flag" boolean,' in ddl
    assert 'PRIMARY KEY ("id""; DROP TABLE x; --")' in ddl


def test_column_definition_can_drop_not_null_for_added_columns() -> None:
    column = DEMAND_HOURLY.column("demand_mw")
    assert column_definition(column).as_string() == '"demand_mw" double precision NOT NULL'
    assert column_definition(column, not_null=False).as_string() == '"demand_mw" double precision'


def test_dataset_without_warehouse_table_is_a_configuration_error() -> None:
    spec = dataclasses.replace(DEMAND_HOURLY, warehouse_table=None)
    with pytest.raises(ConfigurationError, match="demand_hourly has no warehouse_table"):
        create_table_sql(spec)
    assert table_name(DEMAND_HOURLY) == "demand_hourly"


# -- URL helpers -----------------------------------------------------------------------------


def test_redact_url_hides_passwords_in_both_spellings() -> None:
    assert redact_url("postgresql://u:s3cr%40t@db.example:5432/lake") == (
        "postgresql://u:***@db.example:5432/lake"
    )
    assert redact_url("postgresql://u@h/db?password=s3cret&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )
    assert redact_url("host=h user=u password='a b' dbname=d") == ("host=h user=u password=*** dbname=d")
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_describe_target_names_host_and_port_only() -> None:
    assert describe_target("postgresql://u:pw@10.1.2.3:6543/db") == "10.1.2.3:6543"
    assert describe_target("postgresql://u@/db?host=/tmp/lake/_pg&port=5432") == ("/tmp/lake/_pg:5432")
    assert describe_target("host=db.internal dbname=x") == "db.internal:5432"


def test_make_url_percent_encodes_every_part() -> None:
    url = make_url(user="app", password="p@ss:w/rd", host="db.example", port=5433, dbname="lake")
    assert url == "postgresql://app:p%40ss%3Aw%2Frd@db.example:5433/lake"
    assert make_url(user="u", password=None, host="/tmp/s", dbname="d") == (
        "postgresql://u@/d?host=/tmp/s&port=5432"
    )


def test_reader_url_swaps_the_credentials_and_keeps_the_rest() -> None:
    url = "postgresql://owner:ownerpw@db.example:5432/lake?sslmode=require"
    assert reader_url(url, "datalake_reader", "r p") == (
        "postgresql://datalake_reader:r%20p@db.example:5432/lake?sslmode=require"
    )
    assert reader_url(url, "datalake_reader") == (
        "postgresql://datalake_reader@db.example:5432/lake?sslmode=require"
    )
    swapped = reader_url("host=h user=owner password=pw dbname=d", "reader")
    assert "owner" not in swapped
    assert "pw" not in swapped
    assert "user=reader" in swapped


def test_server_log_cause_is_the_last_fatal_with_its_hint(tmp_path) -> None:
    log = tmp_path / "log"
    old = "2024-01-01 00:00:00 UTC [1] FATAL:  an old failure\n"
    log.write_text(
        old + "2024-01-01 00:00:01 UTC [2] LOG:  starting PostgreSQL\n"
        '2024-01-01 00:00:01 UTC [2] FATAL:  lock file ".s.PGSQL.5432.lock" already exists\n'
        "2024-01-01 00:00:01 UTC [2] HINT:  Is another postmaster (PID 7) using socket file?\n"
        "2024-01-01 00:00:01 UTC [2] LOG:  database system is shut down\n"
    )
    assert _last_error_line(log, len(old)) == (
        'lock file ".s.PGSQL.5432.lock" already exists Is another postmaster (PID 7) using socket file?'
    )
    # Only what this start attempt logged counts: an offset past the new lines finds nothing.
    assert _last_error_line(log, log.stat().st_size) is None
