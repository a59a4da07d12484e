"""sagemaker/launch.py against the moto server: the training request, the package, the endpoint.

Moto records the control-plane calls but never runs a container, so a "Completed" training job
has written nothing. Where the flow needs the job's model.tar.gz, the test writes it where
SageMaker would (an after-call hook on CreateTrainingJob); everything asserted is the launcher's
own work. Gaps of moto 5.2 met here, each asserted from the request the launcher sent instead:
CreateTrainingJob drops ``Environment``; UpdateEndpoint and iam:SimulatePrincipalPolicy are not
implemented; CreateModel does not check that the model package exists or is approved.
"""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from processed_fixtures import demand_day, publish_frames

from datalake import aws
from datalake.catalog.glue import GlueCatalog
from datalake.catalog.processed import current_partitions, data_files
from datalake.datasets import DEMAND_HOURLY
from datalake.errors import ConfigurationError
from datalake.models.archive import pack_model_dir
from datalake.models.sagemaker_hosting import DEFAULT_ENDPOINT
from datalake.settings import Settings
from datalake.storage.s3 import S3ObjectStore

REPO = Path(__file__).resolve().parents[2]
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
TRAINING_IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.6-cpu-py312"
INFERENCE_IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
METRICS = {"day_ahead_mape_pct": 3.1, "next_hour_mape_pct": 1.2}


@pytest.fixture(scope="module")
def launch() -> ModuleType:
    try:
        import sagemaker.train  # noqa: F401
    except ImportError:
        # A declared dev dependency that is missing is a broken environment, not a reason to skip.
        pytest.fail("the SageMaker SDK is missing: pip install -e '.[dev]' (sagemaker>=3,<4)", pytrace=False)
    spec = importlib.util.spec_from_file_location("sagemaker_launch", REPO / "sagemaker" / "launch.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aws_env(moto_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Any]]:
    """Buckets and an execution role in moto; settings that name the role; a session to hook into."""
    # The SDK validates the role with iam:SimulatePrincipalPolicy, which moto does not implement
    # (HTTP 500). The role's existence is still checked (iam:GetRole) before any job starts.
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    session = boto3.session.Session(region_name=moto_settings.aws_region)
    s3 = aws.client("s3", session, moto_settings)
    for bucket in (moto_settings.lake_bucket, moto_settings.artifacts_bucket):
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": moto_settings.aws_region}
        )
    role = aws.client("iam", session, moto_settings).create_role(
        RoleName="datalake-sagemaker", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST)
    )["Role"]["Arn"]
    # Two published runs of demand_hourly: the second supersedes the first's March.
    aws.client("glue", session, moto_settings).create_database(
        DatabaseInput={"Name": moto_settings.processed_database}
    )
    lake = S3ObjectStore(moto_settings.lake_bucket, settings=moto_settings)
    glue = GlueCatalog(settings=moto_settings)
    for months in ((3, 4), (3,)):
        frames = {f"year=2024/month={m}": demand_day(f"2024-{m:02d}-05", 25_000.0) for m in months}
        publish_frames(lake, DEMAND_HOURLY, frames, catalog=glue, settings=moto_settings)
    yield moto_settings.model_copy(update={"sagemaker_role_arn": role}), session


def capture(session: Any, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every ``operation`` call the session's clients send."""
    sent: list[dict[str, Any]] = []
    session.events.register(
        f"provide-client-params.sagemaker.{operation}", lambda params, **_: sent.append(dict(params))
    )
    return sent


def simulate_job_output(session: Any, settings: Settings, tmp_path: Path) -> None:
    """Write the model.tar.gz a real job would have written (moto never runs train.py)."""

    def write(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        job = parsed["TrainingJobArn"].rsplit("/", 1)[1]
        model = tmp_path / "job-model"
        (model / "code").mkdir(parents=True)
        (model / "config.json").write_text('{"context_hours": 336}')
        (model / "metrics.json").write_text(json.dumps(METRICS))
        (model / "code" / "inference.py").write_text("# packed by train.py\n")
        aws.client("s3", session, settings).put_object(
            Bucket=settings.artifacts_bucket,
            Key=f"sagemaker/training/{job}/output/model.tar.gz",
            Body=pack_model_dir(model),
        )

    session.events.register("after-call.sagemaker.CreateTrainingJob", write)


def s3_keys(session: Any, settings: Settings, bucket: str, prefix: str) -> list[str]:
    listed = aws.client("s3", session, settings).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"][len(prefix) :] for item in listed.get("Contents", [])]


def test_train_builds_the_training_job_request(
    launch: ModuleType, aws_env: tuple[Settings, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, session = aws_env
    sent = capture(session, "CreateTrainingJob")
    summary = launch.main(
        ["train", "--hp", "max_epochs=2", "--hp", "test_start=2017-07-01", "--no-logs"], settings, session
    )
    assert json.loads(capsys.readouterr().out)["training"]["job_name"] == summary["training"]["job_name"]
    job_name = summary["training"]["job_name"]
    assert job_name.startswith("datalake-demand-forecaster-")

    sm = aws.client("sagemaker", session, settings)
    job = sm.describe_training_job(TrainingJobName=job_name)
    spec = job["AlgorithmSpecification"]
    assert spec["TrainingImage"] == TRAINING_IMAGE  # resolved from SAGEMAKER_FRAMEWORK_VERSION 2.6
    assert spec["ContainerEntrypoint"] == ["/bin/bash"]  # the v3 driver, which runs train.py
    assert job["HyperParameters"] == {"max_epochs": "2", "test_start": "2017-07-01"}
    assert job["RoleArn"] == settings.sagemaker_role_arn
    assert (
        job["ResourceConfig"]["InstanceType"] == settings.sagemaker_training_instance_type == "ml.m5.xlarge"
    )
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{settings.artifacts_bucket}/sagemaker/training"
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    # The train channel is a manifest of the current files: the second run's March, the first's April.
    manifest_uri = channels["train"]
    assert manifest_uri.startswith(f"s3://{settings.lake_bucket}/processed/demand_hourly/_manifests/")
    [train] = [c for c in job["InputDataConfig"] if c["ChannelName"] == "train"]
    assert train["DataSource"]["S3DataSource"]["S3DataType"] == "ManifestFile"
    lake = S3ObjectStore(settings.lake_bucket, settings=settings)
    head, *names = json.loads(lake.get_bytes(manifest_uri.split("/", 3)[3]))
    assert head == {"prefix": f"s3://{settings.lake_bucket}/processed/demand_hourly/"}
    current = current_partitions(GlueCatalog(settings=settings), lake, DEMAND_HOURLY, settings)
    assert sorted(f"processed/demand_hourly/{n}" for n in names) == sorted(
        key for partition in current for key in data_files(lake, partition)
    )
    assert len(names) == 2 and len({n.split("/")[1] for n in names}) == 2  # two runs' folders
    assert set(channels) == {"train", "code", "sm_drivers"}
    assert summary["training"]["model_artifacts"] == (
        f"s3://{settings.artifacts_bucket}/sagemaker/training/{job_name}/output/model.tar.gz"
    )

    # Moto drops Environment from CreateTrainingJob, so the entry point variable is checked in the
    # request the SDK sent (and in moto's record, should a later moto keep it).
    assert len(sent) == 1 and sent[0]["Environment"] == {"SAGEMAKER_PROGRAM": "train.py"}
    assert job.get("Environment", sent[0]["Environment"]) == sent[0]["Environment"]
    assert sent[0]["TrainingJobName"] == job_name

    # The code channel is the source bundle: the scripts, the requirements and the datalake package.
    bucket, code_prefix = channels["code"][5:].split("/", 1)
    code = set(s3_keys(session, settings, bucket, code_prefix + "/"))
    assert {"train.py", "inference.py", "requirements.txt", "datalake/__init__.py"} <= code
    assert "datalake/forecasting/forecaster.py" in code and "datalake/models/sagemaker_registry.py" in code
    assert not any("__pycache__" in key for key in code)
    s3 = aws.client("s3", session, settings)
    requirements = s3.get_object(Bucket=bucket, Key=f"{code_prefix}/requirements.txt")["Body"].read().decode()
    pins = {r.name: r.specifier for r in map(Requirement, requirements.splitlines())}
    assert set(pins) == {
        "pandas", "pyarrow", "holidays", "pydantic", "pydantic-settings", "psycopg", "rich", "scikit-learn",
        "mlflow", "matplotlib", "sagemaker-mlflow",
    }  # fmt: skip
    assert pins["pandas"] == SpecifierSet(">=2.1,<3") and pins["pyarrow"] == SpecifierSet(">=15,<26")
    # The SDK's driver channel names the entry script and the requirements to install.
    drivers = channels["sm_drivers"][5:].split("/", 1)[1]
    source = json.loads(s3.get_object(Bucket=bucket, Key=f"{drivers}/sourcecode.json")["Body"].read())
    assert source["entry_script"] == "train.py" and source["requirements"] == "requirements.txt"


def test_movie_success_trains_its_own_script_on_a_csv_channel(
    launch: ModuleType, aws_env: tuple[Settings, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, session = aws_env
    with pytest.raises(SystemExit):
        launch.main(["train", "--model", "movie-success", "--no-logs"], settings, session)
    assert "--channel" in capsys.readouterr().err
    sent = capture(session, "CreateTrainingJob")
    channel = f"s3://{settings.lake_bucket}/raw/tmdb/kaggle/tmdb_5000_movies.csv"
    summary = launch.main(
        ["train", "--model", "movie-success", "--channel", channel, "--hp", "train_end=2010", "--no-logs"],
        settings,
        session,
    )
    assert summary["training"]["job_name"].startswith("datalake-movie-success-")
    assert sent[0]["Environment"] == {"SAGEMAKER_PROGRAM": "movie_success_train.py"}
    assert sent[0]["HyperParameters"] == {"train_end": "2010"}


def test_movie_success_deploys_to_its_own_endpoint_named_by_the_flag_or_the_setting(
    launch: ModuleType, aws_env: tuple[Settings, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, session = aws_env
    with pytest.raises(SystemExit):  # never the forecaster's endpoint by default
        launch.main(["deploy", "--model", "movie-success"], settings, session)
    assert "MOVIE_SUCCESS_ENDPOINT" in capsys.readouterr().err
    # With the setting it goes on to the movie family's own registry group, empty here.
    named = settings.model_copy(update={"movie_success_endpoint": "datalake-dev-movie-success"})
    with pytest.raises(SystemExit):
        launch.main(["deploy", "--model", "movie-success"], named, session)
    error = capsys.readouterr().err
    assert "no champion to deploy" in error and "--endpoint" not in error
    assert aws.client("sagemaker", session, settings).list_endpoints()["Endpoints"] == []


def test_all_trains_registers_promotes_and_deploys(
    launch: ModuleType, aws_env: tuple[Settings, Any], tmp_path: Path
) -> None:
    settings, session = aws_env
    simulate_job_output(session, settings, tmp_path)
    summary = launch.main(["all", "--no-logs"], settings, session)
    sm = aws.client("sagemaker", session, settings)

    # Registered from the job's archive, and promoted: the group had no champion yet.
    registered = summary["registered"]
    assert registered["promoted"] is True
    package = sm.describe_model_package(ModelPackageName=registered["record"]["model_package_arn"])
    assert package["ModelPackageGroupName"] == settings.model_package_group
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "first model: no champion yet"
    assert package["CustomerMetadataProperties"]["metric:day_ahead_mape_pct"] == "3.1"
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == INFERENCE_IMAGE
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    version = registered["version"]
    assert container["ModelDataUrl"] == (
        f"s3://{settings.artifacts_bucket}/models/demand_forecaster/versions/{version}/model.tar.gz"
    )
    assert registered["record"]["metrics"] == METRICS
    assert registered["record"]["training_job"] == summary["training"]["job_name"]
    bucket, key = container["ModelDataUrl"][5:].split("/", 1)
    body = aws.client("s3", session, settings).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["code/inference.py", "config.json", "metrics.json"]

    # Deployed: endpoint -> config -> model -> the approved package.
    deployment = summary["deployment"]
    assert deployment["action"] == "created" and deployment["version"] == version
    endpoint = sm.describe_endpoint(EndpointName=DEFAULT_ENDPOINT)
    assert endpoint["EndpointConfigName"] == deployment["endpoint_config_name"]
    config = sm.describe_endpoint_config(EndpointConfigName=deployment["endpoint_config_name"])
    variant = config["ProductionVariants"][0]
    assert variant["ModelName"] == deployment["model_name"]
    assert variant["InstanceType"] == settings.sagemaker_inference_instance_type == "ml.m5.large"
    assert variant["InitialInstanceCount"] == 1
    model = sm.describe_model(ModelName=deployment["model_name"])
    assert model["PrimaryContainer"]["ModelPackageName"] == package["ModelPackageArn"]
    assert model["PrimaryContainer"]["Environment"] == {"LAKE_RUNTIME": "aws"}
    assert model["ExecutionRoleArn"] == settings.sagemaker_role_arn

    # A second deployment switches the existing endpoint to a new config. Moto has no
    # UpdateEndpoint, so the call is answered here and its request asserted.
    updates = capture(session, "UpdateEndpoint")
    session.events.register(
        "before-call.sagemaker.UpdateEndpoint",
        lambda **_: (AWSResponse("http://moto", 200, {}, None), {"EndpointArn": endpoint["EndpointArn"]}),
    )
    again = launch.main(["deploy"], settings, session)["deployment"]
    assert again["action"] == "updated" and again["version"] == version
    assert updates == [
        {"EndpointName": DEFAULT_ENDPOINT, "EndpointConfigName": again["endpoint_config_name"]}
    ]
    assert again["endpoint_config_name"] != deployment["endpoint_config_name"]
    sm.describe_endpoint_config(EndpointConfigName=again["endpoint_config_name"])  # it exists


def test_deploy_needs_an_approved_version(
    launch: ModuleType, aws_env: tuple[Settings, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, session = aws_env
    simulate_job_output(session, settings, tmp_path)
    job = launch.main(["train", "--no-logs"], settings, session)["training"]["job_name"]
    version = launch.main(["register", "--job", job], settings, session)["registered"]["version"]
    capsys.readouterr()

    # Moto would happily create a model from a pending package; the launcher refuses.
    with pytest.raises(SystemExit):
        launch.main(["deploy"], settings, session)
    assert "no champion to deploy" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        launch.main(["deploy", "--version", version], settings, session)
    assert f"version {version} is PendingManualApproval, not Approved" in capsys.readouterr().err
    sm = aws.client("sagemaker", session, settings)
    assert sm.list_endpoints()["Endpoints"] == []


def test_the_endpoint_model_runs_in_the_private_subnets_when_it_reads_the_warehouse(
    launch: ModuleType, aws_env: tuple[Settings, Any], tmp_path: Path
) -> None:
    """RDS is private: a model that reads DATABASE_SECRET_ARN is created inside the VPC."""
    settings, session = aws_env
    settings = settings.model_copy(
        update={
            "database_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
            "sagemaker_subnet_ids": "subnet-0aaa, subnet-0bbb",
            "sagemaker_security_group_ids": "sg-0app",
        }
    )
    simulate_job_output(session, settings, tmp_path)
    deployment = launch.main(["all", "--no-logs"], settings, session)["deployment"]
    model = aws.client("sagemaker", session, settings).describe_model(ModelName=deployment["model_name"])
    assert model["VpcConfig"] == {"Subnets": ["subnet-0aaa", "subnet-0bbb"], "SecurityGroupIds": ["sg-0app"]}
    assert model["PrimaryContainer"]["Environment"]["DATABASE_SECRET_ARN"] == settings.database_secret_arn


def test_a_model_that_reads_the_warehouse_without_a_vpc_is_refused_before_anything_is_created(
    launch: ModuleType, aws_env: tuple[Settings, Any], tmp_path: Path
) -> None:
    settings, session = aws_env
    settings = settings.model_copy(
        update={"database_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"}
    )
    simulate_job_output(session, settings, tmp_path)
    with pytest.raises(SystemExit) as caught:
        launch.main(["all", "--no-logs"], settings, session)
    error = caught.value.__cause__
    assert isinstance(error, ConfigurationError) and "no VPC configuration" in str(error)
    assert "SAGEMAKER_SUBNET_IDS" in (error.hint or "")
    sm = aws.client("sagemaker", session, settings)
    assert sm.list_models()["Models"] == [] and sm.list_endpoints()["Endpoints"] == []
