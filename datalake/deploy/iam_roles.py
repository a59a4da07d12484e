"""Least privilege of the roles AWS services run as, checked from the templates alone (``deploy check``).

Each check renders a layer with ``params/<env>.json`` and stand-ins for what AWS assigns (account,
secret ARNs, subnet ids), derives what the service does with the role (:mod:`iam_glue`,
:mod:`iam_sagemaker`, :func:`~datalake.deploy.iam_calls.athena_query_requests`) and reports both
directions with :func:`~datalake.deploy.iam_check.check_role`: requests the role would be denied,
and grants nothing uses.

- :func:`check_glue_job_roles`: what Glue does before a job's script runs, and the job's reads and
  writes of the lake (its raw prefixes, the tables it publishes, quarantine, run reports);
- :func:`check_crawler_roles`: each crawler's targets, database and log;
- :func:`check_sagemaker_role`: the launcher's training job and registered-version endpoint, and the
  ml stack's own model and endpoint;
- :func:`check_athena_users`: every function whose ``ASK_ENGINE`` is ``lake`` may run its queries.

:func:`service_role_findings` gives them as findings (template, role, rule, message).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from datalake.deploy.findings import Finding, template_file
from datalake.deploy.iam_calls import AthenaCatalog, AwsCall
from datalake.deploy.iam_check import (
    Bindings,
    RoleReport,
    TemplateRenderer,
    check_role,
    deployment_bindings,
    function_role,
    glue_job_platform_requests,
    lambda_functions,
    parsed_params,
    parsed_template,
    requests_of_calls,
    resource_role,
    role_policy,
)
from datalake.deploy.iam_glue import crawler_requests, glue_job_data_requests, trigger_raw_prefixes
from datalake.deploy.iam_policy import Request
from datalake.deploy.iam_sagemaker import (
    LAUNCHER_JOB_NAME,
    LAUNCHER_VERSION,
    launcher_role_requests,
    model_requests,
    movie_success_launcher_requests,
    sales_launcher_requests,
)
from datalake.deploy.templates import LAYERS
from datalake.errors import ConfigurationError
from datalake.models import FORECASTER
from datalake.models.archive import MODEL_ARCHIVE
from datalake.models.sagemaker_training import SAGEMAKER_PREFIX
from datalake.sales.hosting import DEFAULT_ENDPOINT as SALES_DEFAULT_ENDPOINT
from datalake.storage.paths import join_key

#: The account in stand-in ARNs (any 12 digits: the templates build every ARN from AWS::AccountId).
STAND_IN_ACCOUNT = "123456789012"
#: Stand-ins for values AWS assigns at deploy time, which no template or parameter file holds.
_STAND_IN_EXPORTS = {
    "DatabaseSecretArn": "arn:{p}:secretsmanager:{r}:{a}:secret:{project}/{env}/database-AbCdEf",
    "PrivateSubnetIds": "subnet-0stand0in0a,subnet-0stand0in0b",
    "AppSecurityGroupId": "sg-0stand0in",
}


def stand_in_bindings(
    env: str, layer: str, template: Mapping[str, Any] | None = None, **parameters: str
) -> Bindings:
    """What ``datalake deploy --env <env>`` gives ``layer``, with stand-ins for what AWS assigns.

    Parameters
    ----------
    env
        ``dev`` or ``prod``.
    layer
        One of :data:`~datalake.deploy.templates.LAYERS`.
    template
        The layer's template (its file when None): its secrets get stand-in ARNs.
    parameters
        Parameter values to set besides ``params/<env>.json`` (``ModelDataUrl``...).
    """
    params = parsed_params(env)
    region, project = str(params.get("region", "eu-west-1")), str(params["project"])
    fields = {"p": "aws", "r": region, "a": STAND_IN_ACCOUNT, "project": project, "env": env}
    exports = {f"{project}-{env}-{name}": value.format(**fields) for name, value in _STAND_IN_EXPORTS.items()}
    # A secret's ARN ends in a random suffix AWS assigns.
    secrets = {
        name: f"arn:aws:secretsmanager:{region}:{STAND_IN_ACCOUNT}:secret:{name}-AbCdEf"
        for name, resource in (template or parsed_template(layer)).get("Resources", {}).items()
        if resource["Type"] == "AWS::SecretsManager::Secret"
    }
    # A KMS key's ARN ends in an id AWS assigns.
    keys = {
        f"{name}.Arn": f"arn:aws:kms:{region}:{STAND_IN_ACCOUNT}:key/0f8fad5b-d9cb-469f-a165-70867728950e"
        for name, resource in (template or parsed_template(layer)).get("Resources", {}).items()
        if resource["Type"] == "AWS::KMS::Key"
    }
    return deployment_bindings(
        env,
        layer,
        account=STAND_IN_ACCOUNT,
        region=region,
        parameters={
            "ReaderSecretArn": f"arn:aws:secretsmanager:{region}:{STAND_IN_ACCOUNT}:secret:reader-AbCdEf",
            **parameters,
        },
        exports=exports,
        resources=secrets,
        attributes=keys,
    )


#: Layer templates to check instead of the files (``{layer: template}``); the files when None.
Templates = Mapping[str, Mapping[str, Any]] | None


def _renderer(env: str, layer: str, templates: Templates = None, **parameters: str) -> TemplateRenderer:
    template = (templates or {}).get(layer) or parsed_template(layer)
    return TemplateRenderer(template, stand_in_bindings(env, layer, template, **parameters), layer)


def _of_type(renderer: TemplateRenderer, kind: str) -> list[str]:
    return [name for name, r in renderer.resources.items() if r["Type"] == kind]


def _by_role(renderer: TemplateRenderer, resources: Iterable[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in resources:
        grouped.setdefault(resource_role(renderer.template, name), []).append(name)
    return grouped


def check_glue_job_roles(env: str = "dev", templates: Templates = None) -> list[RoleReport]:
    """Each Glue job role against what Glue and its jobs' code do with it (the jobs that share it together).

    Per job: fetching its script and packages and writing its logs
    (:func:`~datalake.deploy.iam_check.glue_job_platform_requests`), and its reads and writes of
    the lake for every raw prefix the trigger runs it on
    (:func:`~datalake.deploy.iam_glue.glue_job_data_requests`).
    """
    transforms = _renderer(env, "transforms", templates)
    prefixes = trigger_raw_prefixes(_renderer(env, "ingestion", templates))
    reports = []
    for role, jobs in _by_role(transforms, _of_type(transforms, "AWS::Glue::Job")).items():
        requests = [
            request
            for job in jobs
            for request in (
                *glue_job_platform_requests(transforms, job),
                *glue_job_data_requests(transforms, job, prefixes),
            )
        ]
        reports.append(check_role(role_policy(transforms, role), requests))
    return reports


def check_crawler_roles(env: str = "dev", templates: Templates = None) -> list[RoleReport]:
    """Each crawler role against what its crawlers do (:func:`~datalake.deploy.iam_glue.crawler_requests`)."""
    catalog = _renderer(env, "catalog", templates)
    crawlers = _by_role(catalog, _of_type(catalog, "AWS::Glue::Crawler"))
    return [
        check_role(
            role_policy(catalog, role), [r for crawler in names for r in crawler_requests(catalog, crawler)]
        )
        for role, names in crawlers.items()
    ]


def _getatt_of(value: Any) -> str | None:
    """The logical id a ``Fn::GetAtt`` (either form) names, or None for anything else."""
    target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if target is None:
        return None
    return str((target.split(".", 1) if isinstance(target, str) else target)[0])


def _template_model_requests(ml: TemplateRenderer, model: str) -> list[Request]:
    """What SageMaker does with the role to host one of the template's models on its endpoints."""
    props = ml.render(ml.resources[model]["Properties"], f".{model}")
    configs = {
        name
        for name in _of_type(ml, "AWS::SageMaker::EndpointConfig")
        if any(
            _getatt_of(variant.get("ModelName")) == model
            for variant in ml.resources[name]["Properties"]["ProductionVariants"]
        )
    }
    endpoints = [
        str(ml.render(ml.resources[name]["Properties"]["EndpointName"], f".{name}"))
        for name in _of_type(ml, "AWS::SageMaker::Endpoint")
        if _getatt_of(ml.resources[name]["Properties"]["EndpointConfigName"]) in configs
    ]
    b = ml.bindings
    return model_requests(
        props["PrimaryContainer"],
        endpoints,
        b.region,
        b.account,
        b.partition,
        vpc=bool(props.get("VpcConfig")),
        why=f"SageMaker hosts the ml stack's {model}",
    )


def check_sagemaker_role(env: str = "dev", templates: Templates = None) -> list[RoleReport]:
    """The SageMaker execution role against every job and model it is passed for.

    The launcher's default training job and its deployment of a registered version
    (:func:`~datalake.deploy.iam_sagemaker.launcher_role_requests`), the store-sales champion it
    packs and serves (:func:`~datalake.deploy.iam_sagemaker.sales_launcher_requests`), and the ml
    stack's own model
    with either archive ``docs/deploy.md`` offers for ``ModelDataUrl``: a training job's output, or a
    registered version.
    """
    ml = _renderer(env, "ml", templates)
    exports, b = ml.bindings.exports, ml.bindings
    project = parsed_params(env)["project"]
    lake, artifacts = (
        exports[f"{project}-{env}-LakeBucketName"],
        exports[f"{project}-{env}-ArtifactsBucketName"],
    )
    secret = exports[f"{project}-{env}-DatabaseSecretArn"]
    endpoint = str(ml.render({"Ref": "EndpointName"}))
    archives = (
        join_key(SAGEMAKER_PREFIX, "training", LAUNCHER_JOB_NAME, "output", MODEL_ARCHIVE),
        join_key("models", FORECASTER, "versions", LAUNCHER_VERSION, MODEL_ARCHIVE),
    )
    requests = (
        launcher_role_requests(
            lake, artifacts, endpoint, b.region, b.account, b.partition, database_secret_arn=secret
        )
        + movie_success_launcher_requests(
            lake, artifacts, "datalake-movie-success", b.region, b.account, b.partition
        )
        + sales_launcher_requests(artifacts, SALES_DEFAULT_ENDPOINT, b.region, b.account, b.partition)
    )
    for archive in archives:
        with_model = _renderer(env, "ml", templates, ModelDataUrl=f"s3://{artifacts}/{archive}")
        for model in _of_type(with_model, "AWS::SageMaker::Model"):
            requests += _template_model_requests(with_model, model)
    roles = {
        _getatt_of(ml.resources[model]["Properties"]["ExecutionRoleArn"])
        for model in _of_type(ml, "AWS::SageMaker::Model")
    }
    if None in roles:
        raise ConfigurationError("ml: a model's ExecutionRoleArn is not a GetAtt of a role in the template")
    return [check_role(role_policy(ml, str(role)), requests) for role in sorted(map(str, roles))]


def lake_athena_catalog(
    lake_bucket: str, tables: Mapping[tuple[str, str], Any], workgroup_outputs: Mapping[str, str]
) -> AthenaCatalog:
    """The :class:`~datalake.deploy.iam_calls.AthenaCatalog` of ``{(database, table): dataset spec}``."""
    return AthenaCatalog(
        table_locations={key: f"s3://{lake_bucket}/{spec.location}/" for key, spec in tables.items()},
        partitioned=frozenset(key for key, spec in tables.items() if spec.partition_by),
        workgroup_outputs=dict(workgroup_outputs),
    )


def athena_query_calls(sql: str, database: str, workgroup: str, output: str, region: str) -> list[AwsCall]:
    """The calls the lake engine (AthenaEngine, through awswrangler) makes for one query.

    ``GetWorkGroup``, ``StartQueryExecution``, ``GetQueryExecution``, ``GetQueryResults``, then a
    ``HeadObject`` and ``GetObject`` of the result CSV (tests/integration/test_iam_service_roles.py
    records the engine against moto and holds the two equal).
    """
    query = "00000000-0000-0000-0000-000000000000"
    bucket, _, prefix = output.removeprefix("s3://").partition("/")
    result = f"{prefix.rstrip('/')}/{query}.csv".lstrip("/")
    start = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
        "ResultConfiguration": {"OutputLocation": output},
    }
    return [
        AwsCall("athena", "GetWorkGroup", {"WorkGroup": workgroup}, region, 200),
        AwsCall("athena", "StartQueryExecution", start, region, 200, response={"QueryExecutionId": query}),
        AwsCall("athena", "GetQueryExecution", {"QueryExecutionId": query}, region, 200),
        AwsCall("athena", "GetQueryResults", {"QueryExecutionId": query, "MaxResults": 1}, region, 200),
        AwsCall("s3", "HeadObject", {"Bucket": bucket, "Key": result}, region, 200),
        AwsCall("s3", "GetObject", {"Bucket": bucket, "Key": result}, region, 200),
    ]


def check_athena_users(env: str = "dev", templates: Templates = None) -> list[RoleReport]:
    """Every function whose ``ASK_ENGINE`` is ``lake`` may run /ask's queries on Athena.

    The API answers /ask from the warehouse on AWS (``ASK_ENGINE`` unset or ``warehouse``); a
    function switched to the lake engine runs each /ask dataset's query in its ``ATHENA_WORKGROUP``
    (``primary`` by default) and must be allowed the Athena, Glue and S3 requests that takes. Only
    denials are reported: the role's other grants serve the function's other calls.
    """
    from datalake.datasets import ask_datasets

    catalog = _renderer(env, "catalog", templates)
    project = parsed_params(env)["project"]
    outputs = {}
    for name in _of_type(catalog, "AWS::Athena::WorkGroup"):
        props = catalog.render(catalog.resources[name]["Properties"], f".{name}")
        config = props.get("WorkGroupConfiguration") or {}
        outputs[str(props["Name"])] = str(config["ResultConfiguration"]["OutputLocation"])
    reports = []
    for layer in LAYERS:
        renderer = _renderer(env, layer, templates)
        for function, props in lambda_functions(renderer.template).items():
            variables = (props.get("Environment") or {}).get("Variables") or {}
            if str(renderer.render(variables.get("ASK_ENGINE", "warehouse"), f".{function}")) != "lake":
                continue
            variables = renderer.render(variables, f".{function}")
            # The tables' files are where the crawlers found them: the lake bucket of the stacks.
            exports = renderer.bindings.exports
            bucket = exports[f"{project}-{env}-LakeBucketName"]
            database = str(
                variables.get("PROCESSED_DATABASE") or exports[f"{project}-{env}-ProcessedDatabaseName"]
            )
            workgroup = str(variables.get("ATHENA_WORKGROUP", "primary"))
            output = outputs.get(workgroup) or str(variables.get("ATHENA_OUTPUT", ""))
            specs = {(database, spec.table_name): spec for spec in ask_datasets()}
            calls = [
                call
                for (_db, table) in specs
                for call in athena_query_calls(
                    f'SELECT count(*) FROM "{table}"', database, workgroup, output, renderer.bindings.region
                )
            ]
            athena = lake_athena_catalog(bucket, specs, outputs)
            requests = requests_of_calls(
                calls, renderer.bindings.account, renderer.bindings.partition, athena
            )
            report = check_role(role_policy(renderer, function_role(renderer.template, function)), requests)
            report.unused = []  # the function's other grants serve its other calls
            reports.append(report)
    return reports


_GLUE_DG = "https://docs.aws.amazon.com/glue/latest/dg"
_LEAST_PRIVILEGE = (
    "a role grants nothing its service and code do not use",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
)

#: Rule id -> (what it requires, where AWS documents it), for ``datalake deploy check``.
IAM_RULES: dict[str, tuple[str, str]] = {
    "iam-glue-job-role-denied": (
        "a Glue job's role allows Glue to fetch the job's code and write its logs, and the job's code "
        "to read its raw prefixes and publish, quarantine and report what it writes",
        f"{_GLUE_DG}/create-an-iam-role.html",
    ),
    "iam-glue-job-role-unused": _LEAST_PRIVILEGE,
    "iam-crawler-role-denied": (
        "a crawler's role may list and read its S3 targets, read and write its database's tables "
        "and partitions as its schema-change policy says, and write its log",
        f"{_GLUE_DG}/crawler-prereqs.html",
    ),
    "iam-crawler-role-unused": _LEAST_PRIVILEGE,
    "iam-sagemaker-role-denied": (
        "the SageMaker execution role may read each training channel, write the job's outputs, pull "
        "the images, get each model's archive, write logs and metrics, and attach VPC interfaces",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html",
    ),
    "iam-sagemaker-role-unused": _LEAST_PRIVILEGE,
    "iam-athena-user-denied": (
        "a role that runs Athena queries may use the workgroup, read the tables' catalog entries and "
        "files, and write the results, since Athena does all of it with the caller's credentials",
        "https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html",
    ),
}


def report_findings(report: RoleReport, rule: str) -> list[Finding]:
    """A report's denied requests and unused grants as findings on the role's template and resource."""
    layer, _, role = report.role.partition(".")
    file = template_file(layer)
    return [Finding(f"{rule}-denied", file, role, str(denial)) for denial in report.denied] + [
        Finding(f"{rule}-unused", file, role, str(grant)) for grant in report.unused
    ]


def service_role_findings(env: str = "dev", templates: Templates = None) -> list[Finding]:
    """Every check of this module over ``env``'s stacks (or ``templates``), as findings."""
    checks = {
        "iam-glue-job-role": check_glue_job_roles,
        "iam-crawler-role": check_crawler_roles,
        "iam-sagemaker-role": check_sagemaker_role,
        "iam-athena-user": check_athena_users,
    }
    return [
        finding
        for rule, check in checks.items()
        for report in check(env, templates)
        for finding in report_findings(report, rule)
    ]
