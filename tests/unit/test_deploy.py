"""datalake deploy: packaging (offline), the change-set flow and its failure report (a fake client fed
real DescribeStackEvents JSON: moto never fails a stack), and Glue arguments becoming settings."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from datalake.deploy import package as pkg
from datalake.deploy.stack import DeployError, deploy_layer, layer_parameters
from datalake.deploy.templates import REPO_ROOT, load_params
from datalake.errors import ConfigurationError
from datalake.jobs import apply_settings_arguments, resolve_args

# -- packaging ---------------------------------------------------------------------------------------


def test_lambda_bundles_put_the_handler_where_the_template_says(tmp_path: Path) -> None:
    progress: list[str] = []
    artifacts = {a.key: a for a in pkg.build_lambda_bundles(tmp_path, progress=progress.append)}
    with zipfile.ZipFile(artifacts["lambda/ree_daily.zip"].path) as archive:
        assert archive.namelist() == ["handler.py"]
    with zipfile.ZipFile(artifacts["lambda/api.zip"].path) as archive:
        assert "api/lambda_handler.py" in archive.namelist()
        assert not [n for n in archive.namelist() if "__pycache__" in n]
    # A bundle whose folder is missing is reported, never silently dropped.
    missing = [name for name, (folder, _) in pkg.LAMBDA_BUNDLES.items() if not (REPO_ROOT / folder).is_dir()]
    assert all(any(f"lambda/{m}.zip not built" in line for line in progress) for m in missing)


def test_core_layer_holds_the_package_and_its_sql(tmp_path: Path) -> None:
    layer = pkg.build_core_layer(tmp_path)
    with zipfile.ZipFile(layer.path) as archive:
        names = set(archive.namelist())
    assert "python/datalake/settings.py" in names
    assert "python/datalake/query/named/clients_per_city.sql" in names
    assert pkg.unzipped_size(layer.path) < 20 * 2**20


def test_zips_are_deterministic_and_the_version_follows_the_sources(tmp_path: Path) -> None:
    first = pkg.build_core_layer(tmp_path / "a").path.read_bytes()
    second = pkg.build_core_layer(tmp_path / "b").path.read_bytes()
    assert first == second
    repo = tmp_path / "repo"
    (repo / "datalake").mkdir(parents=True)
    (repo / "datalake" / "x.py").write_text("A = 1\n")
    before = pkg.code_version(repo, ["datalake"])
    assert pkg.code_version(repo, ["datalake"]) == before
    (repo / "datalake" / "x.py").write_text("A = 2\n")
    assert pkg.code_version(repo, ["datalake"]) != before


def test_layers_over_lambdas_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layer = pkg.build_core_layer(tmp_path)
    assert pkg.check_layer_sizes([layer]) == pkg.unzipped_size(layer.path)
    monkeypatch.setattr(pkg, "LAMBDA_UNZIPPED_LIMIT_BYTES", 1000)
    with pytest.raises(ConfigurationError, match="250 MB"):
        pkg.check_layer_sizes([layer])


def test_glue_scripts_and_sagemaker_bundle(tmp_path: Path) -> None:
    scripts = {a.key for a in pkg.build_glue_scripts(tmp_path)}
    assert {f"glue/{p.name}" for p in (REPO_ROOT / "glue_jobs").glob("*.py")} == scripts
    bundle = pkg.build_sagemaker_bundle(tmp_path)
    with tarfile.open(bundle.path) as archive:
        names = set(archive.getnames())
    assert {"train.py", "inference.py", "requirements.txt", "datalake/settings.py"} <= names


def _import_blocked(paths: list[str], modules: list[str], blocked: frozenset[str]) -> None:
    """Run the entry points in a fresh interpreter with ``blocked`` distributions unimportable."""
    names = sorted(pkg.EXCLUDED_MODULES[d] for d in blocked if d in pkg.EXCLUDED_MODULES)
    code = (
        f"import sys, runpy, importlib\nfor m in {names!r}: sys.modules[m] = None\n"
        f"for path in {paths!r}: runpy.run_path(path)\n"
        f"for module in {modules!r}: importlib.import_module(module)\n"
    )
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "LAKE_RUNTIME": "aws",
        "FORECAST_ENDPOINT": "x",
        "API_FORECAST_BACKEND": "endpoint",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_pipeline_handlers_import_nothing_their_layer_leaves_out() -> None:
    handlers = [
        str(REPO_ROOT / folder / "handler.py")
        for folder, inside in pkg.LAMBDA_BUNDLES.values()
        if not inside and (REPO_ROOT / folder / "handler.py").is_file()
    ]
    assert len(handlers) >= 4
    _import_blocked(handlers, [], pkg.DEPENDENCY_LAYERS["layer-dependencies"])


def test_the_api_lambda_imports_nothing_its_layer_leaves_out() -> None:
    blocked = pkg.DEPENDENCY_LAYERS["layer-api-dependencies"]
    assert {"torch", "matplotlib"} <= blocked
    _import_blocked([], ["api.lambda_handler", "datalake.forecasting.serving"], blocked)


#: A chat-completions server on the loopback, then /ask's model call through it: run in a fresh
#: interpreter where ``BLOCKED`` modules cannot be imported (the API layer's exclusions and hf_xet).
_MODEL_CALL_WITHOUT = """
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
for name in BLOCKED: sys.modules[name] = None

class Chat(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        message = {"role": "assistant", "content": "SELECT 1 AS answered_by_" + body["model"].split("/")[-1]}
        payload = json.dumps({
            "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Chat)
threading.Thread(target=server.serve_forever, daemon=True).start()
from datalake.ask.fallback import HuggingFaceTextToSql
url = f"http://127.0.0.1:{server.server_address[1]}"
backend = HuggingFaceTextToSql("org/sql", base_url=url, token="hf_x")
print(backend.complete("how many rows?", prompt="answer with SQL"))
"""


def test_the_api_layer_keeps_huggingface_hub_but_not_hf_xet_which_the_model_call_never_imports() -> None:
    api_layer = pkg.DEPENDENCY_LAYERS["layer-api-dependencies"]
    # /ask's model backend is the API's: its layer installs huggingface_hub, the pipelines' does not.
    assert any(r.lower().startswith("huggingface") for r in pkg.lambda_requirements(api_layer))
    assert "huggingface-hub" in pkg.DEPENDENCY_LAYERS["layer-dependencies"]
    # hf-xet comes with it (a dependency) and is stripped from the zip, package and metadata alike.
    for name, dropped in (
        ("python/hf_xet/hf_xet.abi3.so", True),
        ("python/hf_xet-1.8.0.dist-info/METADATA", True),
        ("python/huggingface_hub/inference/_client.py", False),
        ("python/huggingface_hub-2.4.0.dist-info/METADATA", False),
    ):
        assert pkg.stripped_from_layer(name) is dropped, name
    # ...which the chat completion never needs: it answers with hf_xet unimportable.
    blocked = sorted({pkg.EXCLUDED_MODULES[d] for d in api_layer if d in pkg.EXCLUDED_MODULES} | {"hf_xet"})
    result = subprocess.run(
        [sys.executable, "-c", f"BLOCKED = {blocked!r}\n{_MODEL_CALL_WITHOUT}"],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(REPO_ROOT),
            "PATH": "/usr/bin:/bin",
            "NO_PROXY": "127.0.0.1",
            "HF_HUB_OFFLINE": "0",
        },
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "SELECT 1 AS answered_by_sql"


def test_without_matplotlib_a_chart_is_a_503_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.errors import ServiceUnavailableError
    from api.services import charts

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ServiceUnavailableError, match="charts are not installed"):
        charts._matplotlib()


# -- Glue arguments -> settings -------------------------------------------------------------------------


def test_setting_arguments_become_environment_variables() -> None:
    environ = {"LAKE_BUCKET": "kept"}
    argv = [
        "job.py",
        "--JOB_ID",
        "j1",
        "--lake_runtime",
        "aws",
        "--lake_bucket",
        "b",
        "--raw_prefix",
        "raw/x",
    ]
    assert apply_settings_arguments(argv, environ) == {"LAKE_RUNTIME": "aws"}
    assert environ == {"LAKE_BUCKET": "kept", "LAKE_RUNTIME": "aws"}  # set ones win; job args ignored


def test_resolve_args_applies_settings_before_the_job_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from datalake.settings import get_settings

    monkeypatch.setenv("LAKE_RUNTIME", "local")  # registered with monkeypatch so it is undone
    monkeypatch.delenv("LAKE_RUNTIME")
    monkeypatch.setenv("LAKE_BUCKET", "x")
    monkeypatch.delenv("LAKE_BUCKET")
    args = resolve_args(["raw_prefix"], {}, ["job.py", "--raw_prefix", "raw/y", "--lake_bucket", "from-glue"])
    assert args == {"raw_prefix": "raw/y"}
    assert get_settings().lake_bucket == "from-glue"


# -- stack: parameters and the failure path ----------------------------------------------------------


def test_layer_parameters_take_project_env_params_and_code_version() -> None:
    params = load_params("dev")
    values = {
        p["ParameterKey"]: p["ParameterValue"] for p in layer_parameters("transforms", "dev", params, "abc")
    }
    assert values["Project"] == "datalake" and values["Env"] == "dev" and values["CodeVersion"] == "abc"
    assert values["ReeJobName"] == "datalake-dev-ree-to-processed"  # names are per environment
    with pytest.raises(ConfigurationError, match="code version"):
        layer_parameters("ingestion", "dev", params, None)
    assert "CodeVersion" not in {p["ParameterKey"] for p in layer_parameters("storage", "dev", params, None)}


# A real DescribeStackEvents page (newest first) of a failed create, trimmed to the fields read.
FAILED_EVENTS = json.loads(
    """{"StackEvents": [
  {"LogicalResourceId": "datalake-dev-storage", "ResourceType": "AWS::CloudFormation::Stack",
   "ResourceStatus": "ROLLBACK_COMPLETE", "Timestamp": "2026-01-05T10:02:10Z"},
  {"LogicalResourceId": "LakeBucketPolicy", "ResourceType": "AWS::S3::BucketPolicy",
   "ResourceStatus": "CREATE_FAILED", "Timestamp": "2026-01-05T10:01:03Z",
   "ResourceStatusReason": "Resource creation cancelled"},
  {"LogicalResourceId": "LandingBucket", "ResourceType": "AWS::S3::Bucket",
   "ResourceStatus": "CREATE_FAILED", "Timestamp": "2026-01-05T10:01:02Z",
   "ResourceStatusReason": "datalake-dev-landing-123456789012 already exists"},
  {"LogicalResourceId": "LandingBucket", "ResourceType": "AWS::S3::Bucket",
   "ResourceStatus": "CREATE_IN_PROGRESS", "Timestamp": "2026-01-05T10:01:00Z"}
]}"""
)


class FakeCloudFormation:
    """Answers the calls deploy_layer makes, as CloudFormation does for a create that fails."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.created = False

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.calls.append("describe_stacks")
        if not self.created:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack with id {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )
        return {"Stacks": [{"StackName": StackName, "StackStatus": "ROLLBACK_COMPLETE"}]}

    def create_change_set(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(f"create_change_set:{kwargs['ChangeSetType']}")
        self.created = True
        return {"Id": "cs"}

    def describe_change_set(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "Changes": [
                {
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "LandingBucket",
                        "ResourceType": "AWS::S3::Bucket",
                    }
                }
            ]
        }

    def execute_change_set(self, **kwargs: Any) -> None:
        self.calls.append("execute_change_set")

    def get_waiter(self, name: str) -> Any:
        fail = name == "stack_create_complete"

        class Waiter:
            def wait(self, **kwargs: Any) -> None:
                if fail:
                    raise WaiterError(name, "Waiter encountered a terminal failure state", {})

        return Waiter()

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_stack_events"
        events = [
            {**e, "Timestamp": dt.datetime.fromisoformat(e["Timestamp"].replace("Z", "+00:00"))}
            for e in FAILED_EVENTS["StackEvents"]
        ]

        class Paginator:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                return [{"StackEvents": events}]

        return Paginator()


def test_a_failed_create_reports_the_failing_resource_and_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCloudFormation()
    monkeypatch.setattr("datalake.deploy.stack.aws.client", lambda *a, **k: fake)
    lines: list[str] = []
    with pytest.raises(DeployError) as raised:
        deploy_layer(
            "storage",
            "dev",
            load_params("dev"),
            progress=lines.append,
            now=dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC),
        )
    error = raised.value
    # The cause first: the bucket that failed and why, then what was cancelled because of it.
    assert error.failures[0] == (
        "LandingBucket",
        "AWS::S3::Bucket",
        "CREATE_FAILED",
        "datalake-dev-landing-123456789012 already exists",
    )
    assert [f[0] for f in error.failures] == ["LandingBucket", "LakeBucketPolicy"]
    assert "already exists" in str(error) and "ROLLBACK_COMPLETE" in str(error)
    assert fake.calls[:2] == ["describe_stacks", "create_change_set:CREATE"]
    assert any("Add" in line and "LandingBucket" in line for line in lines)  # the changes were shown


def _requirement_names(lines: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", line).group(0).lower().replace("_", "-") for line in lines}


def test_mlflow_reaches_the_promote_lambda_and_the_sales_training_container_with_the_arn_plugin(
    tmp_path: Path,
) -> None:
    from datalake.models.bundle import MLFLOW_AWS_PLUGINS, REQUIREMENTS, build_source_bundle

    # The promote Lambda (pipeline layer) and the API move or read registry aliases: MLflow's client
    # (mlflow-skinny: the `mlflow` package without the server's stack), never the full distribution.
    for name, excluded in pkg.DEPENDENCY_LAYERS.items():
        names = _requirement_names(pkg.lambda_requirements(excluded))
        assert {"mlflow-skinny", "sagemaker-mlflow"} <= names, name
        assert "mlflow" not in names, name
    # The training job logs its run, plot and model and registers the challenger: full MLflow.
    bundled = (build_source_bundle(tmp_path / "code") / REQUIREMENTS).read_text().splitlines()
    assert {"mlflow", "sagemaker-mlflow", "scikit-learn", "matplotlib"} <= _requirement_names(bundled)
    # The plugin is what serves MLFLOW_TRACKING_URI=arn:...: its tracking and registry stores are
    # registered for the "arn" scheme (the installed distribution the pin names).
    plugin = _requirement_names(list(MLFLOW_AWS_PLUGINS))
    for group in ("mlflow.tracking_store", "mlflow.model_registry_store"):
        schemes = {e.name for e in importlib.metadata.entry_points(group=group) if e.dist.name in plugin}
        assert "arn" in schemes, group
