"""Issue 14, finding 14: the /ask reader's password comes from Secrets Manager (moto), the sync sets
it on the role, and the API logs in with it, on an embedded PostgreSQL that asks for passwords.

The session server of warehouse_fixtures trusts every local login, so a password there proves
nothing; this module starts its own server and switches it to SCRAM for every role but the owner.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from processed_fixtures import demand_day, publish_frames

from datalake import aws, runtime
from datalake.datasets import DEMAND_HOURLY
from datalake.deploy.templates import load_template
from datalake.errors import ConfigurationError, WarehouseUnavailableError
from datalake.pipelines.lake import sync_dataset
from datalake.settings import Settings
from datalake.warehouse import EmbeddedPostgres, connect, reader_password, reader_url

pytest_plugins = ["warehouse_fixtures"]

# The owner keeps trust (it is the test's loader); everyone else must present a SCRAM password.
SCRAM_HBA = "local all postgres trust\nlocal all all scram-sha-256\n"


@pytest.fixture
def scram_server(pg_dir: Path) -> Iterator[EmbeddedPostgres]:
    """An embedded server of its own that logs every statement and checks passwords."""
    server = EmbeddedPostgres(pg_dir / "_pg")
    server.start()
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            [hba_file] = conn.execute("SHOW hba_file").fetchone()
            Path(hba_file).write_text(SCRAM_HBA)
            # Every statement goes to the server log, so the test can look for the password there.
            conn.execute("ALTER SYSTEM SET log_statement = 'all'")
            conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        server.stop()


def _reader_secret(settings: Settings) -> tuple[str, str]:
    """The secret as the warehouse stack makes it: its template, a password Secrets Manager generates."""
    generate = load_template("warehouse")["Resources"]["ReaderSecret"]["Properties"]["GenerateSecretString"]
    client = aws.client("secretsmanager", settings=settings)
    password = client.get_random_password(
        PasswordLength=generate["PasswordLength"], ExcludePunctuation=generate["ExcludePunctuation"]
    )["RandomPassword"]
    secret = {**json.loads(generate["SecretStringTemplate"]), generate["GenerateStringKey"]: password}
    arn = client.create_secret(Name="datalake/dev/reader-test", SecretString=json.dumps(secret))["ARN"]
    return arn, password


def _processed_demand(settings: Settings) -> None:
    """One processed partition of demand_hourly in the (moto) lake bucket."""
    aws.client("s3", settings=settings).create_bucket(
        Bucket=settings.lake_bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
    )
    aws.client("glue", settings=settings).create_database(DatabaseInput={"Name": settings.processed_database})
    store = runtime.object_store("lake", settings)
    rows = demand_day("2024-03-05", 25_000.0)
    publish_frames(
        store,
        DEMAND_HOURLY,
        {"year=2024/month=3": rows},
        catalog=runtime.catalog(settings),
        settings=settings,
    )


def test_finding_14_sync_sets_the_reader_password_from_secrets_manager_and_the_api_logs_in_with_it(
    moto_settings: Settings, scram_server: EmbeddedPostgres
) -> None:
    owner_url = scram_server.url
    settings = moto_settings.model_copy(update={"database_url": owner_url})
    arn, password = _reader_secret(settings)
    settings = settings.model_copy(update={"reader_secret_arn": arn})
    _processed_demand(settings)

    report = sync_dataset("demand_hourly", settings)
    assert report.status == "succeeded", report.error
    assert report.rows_out == 24

    # A real SCRAM login as the reader with the secret's password, which reads the synced table.
    with connect(reader_url(owner_url, "datalake_reader", password), settings=settings) as conn:
        assert conn.execute("SELECT current_user, count(*) FROM demand_hourly").fetchone() == (
            "datalake_reader",
            24,
        )
    # The server really checks it: a wrong password is refused, and the error does not echo it.
    with pytest.raises(WarehouseUnavailableError) as refused:
        connect(reader_url(owner_url, "datalake_reader", password[::-1]), settings=settings)
    assert "password authentication failed" in str(refused.value)
    assert password[::-1] not in str(refused.value)
    # The sync sent a SCRAM verifier, never the clear text: the server logged every statement.
    log = scram_server.log_path.read_text(errors="replace")
    assert "PASSWORD 'SCRAM-SHA-256$" in log and password not in log

    # The API's reader pool reads the same secret (READER_SECRET_ARN wins over READER_PASSWORD).
    from api.services.ask_executor import PooledReaderExecutor

    api_settings = settings.model_copy(update={"reader_password": "not-the-password"})
    assert reader_password(api_settings) == password
    executor = PooledReaderExecutor(api_settings)
    try:
        assert not executor.ensure_role  # on AWS the sync owns the role
        assert executor.run("SELECT current_user") == (["current_user"], [["datalake_reader"]])
    finally:
        executor.close()


def test_finding_14_a_reader_secret_for_another_user_fails_without_showing_the_password(
    moto_settings: Settings,
) -> None:
    client = aws.client("secretsmanager", settings=moto_settings)
    arn = client.create_secret(
        Name="datalake/dev/reader-other",
        SecretString=json.dumps({"username": "admin", "password": "s3cr3tPW"}),
    )["ARN"]
    with pytest.raises(ConfigurationError, match="READER_SECRET_ARN") as wrong_user:
        reader_password(moto_settings.model_copy(update={"reader_secret_arn": arn}))
    not_json = client.create_secret(Name="datalake/dev/reader-text", SecretString="s3cr3tPW")["ARN"]
    with pytest.raises(ConfigurationError, match="not JSON") as bad_shape:
        reader_password(moto_settings.model_copy(update={"reader_secret_arn": not_json}))
    for error in (wrong_user.value, bad_shape.value):
        assert "s3cr3tPW" not in f"{error} {error.hint}"
