"""The one place where ``LAKE_RUNTIME`` picks the adapters behind each port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3

    from datalake.catalog.base import Catalog
    from datalake.query.base import QueryEngine
    from datalake.realtime.ports import DeadLetters, Notifier, PortfolioStore, Stream
    from datalake.storage.base import ObjectStore

Bucket = Literal["lake", "landing", "artifacts"]

#: Local runtime: where each bucket lives under the lake root.
LOCAL_BUCKET_DIRS: dict[str, str] = {"lake": "", "landing": "landing", "artifacts": "_artifacts"}


def object_store(
    bucket: Bucket = "lake",
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
) -> ObjectStore:
    """The object store for one of the lake's buckets."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.storage.s3 import S3ObjectStore

        name = {
            "lake": settings.lake_bucket,
            "landing": settings.landing_bucket,
            "artifacts": settings.artifacts_bucket,
        }[bucket]
        return S3ObjectStore(name, boto3_session=boto3_session, settings=settings)
    from datalake.storage.local import LocalObjectStore

    return LocalObjectStore(settings.lake_root / LOCAL_BUCKET_DIRS[bucket])


def catalog(settings: Settings | None = None, boto3_session: boto3.session.Session | None = None) -> Catalog:
    """The Glue Data Catalog, or the local one kept beside the lake."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.catalog.glue import GlueCatalog

        return GlueCatalog(boto3_session=boto3_session, settings=settings)
    from datalake.catalog.local import LocalCatalog

    return LocalCatalog(object_store("lake", settings))


def query_engine(
    settings: Settings | None = None,
    boto3_session: boto3.session.Session | None = None,
    database: str | None = None,
) -> QueryEngine:
    """Athena on AWS, DuckDB over the local catalog otherwise.

    Unqualified table names resolve in ``database`` (the processed database when None).
    """
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.query.athena import AthenaEngine

        return AthenaEngine(settings=settings, boto3_session=boto3_session, database=database)
    from datalake.query.duckdb_engine import DuckDBEngine

    return DuckDBEngine(catalog(settings), default_database=database or settings.processed_database)


def ask_query_engine(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> QueryEngine:
    """The lake engine that runs /ask's guarded SQL: only /ask's tables, personal columns left out.

    Locally a locked-down DuckDB (no files beyond those tables, configuration frozen); on AWS
    Athena, bounded by its workgroup and the caller's IAM role.
    """
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        return query_engine(settings, boto3_session)
    from datalake.catalog.processed import processed_database
    from datalake.datasets import ask_datasets
    from datalake.query.duckdb_engine import DuckDBEngine

    # Views take the names the warehouse and /ask's SQL use, wherever the catalog keeps the table.
    readable = {spec.name: spec.public_column_names for spec in ask_datasets()}
    located = {spec.name: (processed_database(spec, settings), spec.table_name) for spec in ask_datasets()}
    return DuckDBEngine(
        catalog(settings),
        default_database=settings.processed_database,
        readable=readable,
        located=located,
    )


# -- real time (issue 21) -------------------------------------------------------------------------


def stream(settings: Settings | None = None, boto3_session: boto3.session.Session | None = None) -> Stream:
    """Kinesis Data Streams on AWS; locally an fsync'd log per stream under ``<lake_root>/_streams``."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.realtime.aws import KinesisStream

        return KinesisStream(settings=settings, boto3_session=boto3_session)
    from datalake.realtime.local import LocalStream

    return LocalStream(settings=settings)


def portfolio_store(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> PortfolioStore:
    """DynamoDB with condition expressions on AWS; the embedded PostgreSQL locally."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.realtime.aws import DynamoPortfolioStore

        return DynamoPortfolioStore(settings=settings, boto3_session=boto3_session)
    from datalake.realtime.local import PgPortfolioStore

    return PgPortfolioStore(settings=settings)


def notifier(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> Notifier:
    """SNS on AWS; locally a notifications table (plus the optional webhook)."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.realtime.aws import SnsNotifier

        return SnsNotifier(settings=settings, boto3_session=boto3_session)
    from datalake.realtime.local import LocalNotifier

    return LocalNotifier(settings=settings)


def dead_letters(
    settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> DeadLetters:
    """SQS on AWS; locally a table in the embedded PostgreSQL."""
    settings = settings or get_settings()
    if settings.lake_runtime == "aws":
        from datalake.realtime.aws import SqsDeadLetters

        return SqsDeadLetters(settings=settings, boto3_session=boto3_session)
    from datalake.realtime.local import PgDeadLetters

    return PgDeadLetters(settings=settings)
