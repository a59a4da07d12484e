"""One settings object for the whole lake; every knob has an environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Lake settings, read from the environment (and a `.env` file when present).

    Field names are the environment variable names, case-insensitively
    (``lake_root`` <- ``LAKE_ROOT``).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    lake_runtime: Literal["local", "aws"] = Field(
        "local", description="Which adapters serve the ports: local files or AWS services."
    )
    lake_root: Path = Field(
        Path(".lake"), description="Local runtime: the directory that stands in for the buckets."
    )
    lake_bucket: str = Field("datalake-dev-lake", description="Bucket with raw/ and processed/.")
    landing_bucket: str = Field("datalake-dev-landing", description="Bucket for CSV drops.")
    artifacts_bucket: str = Field("datalake-dev-artifacts", description="Code and models.")
    raw_database: str = Field("datalake_raw", description="Glue database of the raw zone.")
    processed_database: str = Field("datalake_processed", description="Glue database of the processed zone.")
    aws_region: str = Field("eu-west-1", description="AWS region of every client.")
    aws_endpoint_url: str | None = Field(
        None, description="Override for every AWS endpoint (moto, seaweedfs, LocalStack)."
    )
    athena_workgroup: str = Field("primary", description="Athena workgroup for lake queries.")
    athena_output: str | None = Field(
        None, description="s3:// prefix for Athena results; the workgroup's when unset."
    )
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset means the embedded server under the lake root."
    )
    database_secret_arn: str | None = Field(
        None, description="AWS runtime: Secrets Manager secret with the RDS credentials."
    )
    db_connect_timeout_s: int = Field(5, ge=1, description="Give up connecting after this.")
    db_statement_timeout_ms: int = Field(30_000, ge=100, description="Per-statement limit.")
    reader_role: str = Field("datalake_reader", description="Read-only PostgreSQL role.")
    spark_master: str = Field("local[*]", description="Spark master for local job runs.")
    spark_driver_memory: str = Field(
        "4g", description="Heap of the local Spark driver (local mode runs every task in it)."
    )
    ree_base_url: str = Field("https://apidatos.ree.es", description="Red Eléctrica REData API base URL.")
    ree_sample: bool = Field(
        False, description="Extractors use the labelled SAMPLE generator (offline) instead of the API."
    )
    ree_glue_job: str = Field(
        "datalake-ree-to-processed", description="Glue job running glue_jobs/ree_to_processed.py."
    )
    entsoe_glue_job: str = Field(
        "datalake-entsoe-to-processed", description="Glue job running glue_jobs/entsoe_to_processed.py."
    )

    @field_validator("aws_endpoint_url", "database_url", "athena_output", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def pg_data_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.lake_root / "_pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
