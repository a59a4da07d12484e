"""What Glue does with its roles beyond fetching a job's code: the jobs' reads and writes, and the crawlers'.

A Glue job's Spark reads and writes of ``s3://`` go through Glue's S3 filesystem (EMRFS), not
boto3, so they cannot be recorded; the driver's publishing goes through
:class:`~datalake.storage.s3.S3ObjectStore` and the Glue catalog. Both follow from the job's
definition (``--lake_bucket``, ``--raw_prefix``, the processed databases) and the code's contract
(:func:`source_contract`, from the source registry: which tables a job publishes, where it
quarantines, where it reports),
which tests/integration/test_iam_service_roles.py holds to the code by running the jobs on moto.

A crawler runs AWS's code: its requests follow from its definition (S3 targets, database,
schema-change policy, security configuration) and what AWS documents a crawler needs (read and
list its targets, read and write its database's tables and partitions, write its logs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from datalake.catalog.processed import runs_prefix
from datalake.datasets.energy_company import SOURCE
from datalake.datasets.spec import DatasetSpec
from datalake.deploy.iam_calls import metric_data_request
from datalake.deploy.iam_check import TemplateRenderer, lambda_functions
from datalake.deploy.iam_policy import Request, UnsupportedPolicyError
from datalake.errors import ConfigurationError
from datalake.jobs import QUARANTINE_PREFIX
from datalake.pipelines.kept_rows import state_root
from datalake.pipelines.ledger import ledger_key
from datalake.pipelines.trigger import raw_prefix_jobs
from datalake.publishing import PUBLISHED_PREFIX
from datalake.runs import RUNS_PREFIX
from datalake.settings import Settings
from datalake.sources.registry import GLUE_SCRIPT, SourceSpec, UnknownSourceError, get_source
from datalake.storage.paths import join_key


@dataclass(frozen=True)
class JobContract:
    """What one Glue job's code reads and writes in the lake besides its raw prefix.

    Attributes
    ----------
    run_name
        The name of its run reports (``_runs/<run_name>/``).
    publishes
        The processed tables it writes runs of and publishes (:mod:`datalake.publishing`).
    quarantines
        The ``quarantine/<name>/`` folders its bad records go to.
    reads_back
        Processed tables a run reads before replacing them (a ``--day`` run merges into them).
    option_writes
        Lake prefixes a run also writes when a flag option is ``true`` (the store-sales features).
    """

    run_name: str
    publishes: tuple[DatasetSpec, ...]
    quarantines: tuple[str, ...]
    reads_back: tuple[DatasetSpec, ...] = ()
    option_writes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def source_contract(source: SourceSpec) -> JobContract:
    """The contract of a registered source's job: its run reports, tables, quarantine folders."""
    return JobContract(
        source.run_name, source.datasets, source.quarantines, source.reads_back, dict(source.option_writes)
    )


def _bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def _object_arn(partition: str, bucket: str, key: str) -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


def spark_read_requests(
    bucket: str, prefix: str, why: str, partition: str = "aws", objects: Iterable[str] | None = None
) -> list[Request]:
    """What Spark on Glue asks S3 for to read every file under a prefix (Glue's S3 filesystem, EMRFS).

    Parameters
    ----------
    bucket, prefix
        The folder Spark was handed (``s3://bucket/prefix``).
    why
        Who reads it.
    partition
        The ARN partition.
    objects
        The keys found there; every key under the prefix (``prefix/*``) when None.

    Returns
    -------
    list of Request
        ``s3:GetObject`` of the folder key itself (Hadoop asks for the path's status with a HEAD)
        and ``s3:ListBucket`` without a prefix (that HEAD of a key that is no object answers 404
        only to a role that may list the bucket, 403 otherwise, and Hadoop fails on 403); the
        listing of ``prefix/``; ``s3:GetObject`` of each file.
    """
    folder = prefix.strip("/")
    keys = [f"{folder}/*"] if objects is None else list(objects)
    return [
        Request("s3:GetObject", _object_arn(partition, bucket, folder), {}, f"{why} (status of the folder)"),
        Request(
            "s3:ListBucket",
            _bucket_arn(partition, bucket),
            {},
            f"{why}: the folder's HEAD is a 404 only to a role that may list the bucket",
        ),
        Request("s3:ListBucket", _bucket_arn(partition, bucket), {"s3:prefix": f"{folder}/"}, why),
        # Handed a list of files (the changed raw partitions of an incremental run), Spark lists each.
        Request("s3:ListBucket", _bucket_arn(partition, bucket), {"s3:prefix": f"{folder}/*"}, why),
        *(Request("s3:GetObject", _object_arn(partition, bucket, key), {}, why) for key in keys),
    ]


def spark_write_requests(bucket: str, prefix: str, why: str, partition: str = "aws") -> list[Request]:
    """What Spark on Glue asks S3 for to write files under a prefix (Glue's S3 filesystem, EMRFS).

    The tasks put the files; the committer lists the folder, reads back and deletes its temporary
    files (``_temporary/``, or the parts of an aborted task) and writes ``_SUCCESS``.
    """
    files = f"{prefix.strip('/')}/*"
    bucket_arn = _bucket_arn(partition, bucket)
    return [
        Request("s3:ListBucket", bucket_arn, {"s3:prefix": files}, f"{why} (committing)"),
        Request("s3:PutObject", _object_arn(partition, bucket, files), {}, why),
        Request("s3:GetObject", _object_arn(partition, bucket, files), {}, f"{why} (committing)"),
        Request("s3:DeleteObject", _object_arn(partition, bucket, files), {}, f"{why} (committing)"),
    ]


#: What publishing a run asks the Glue Data Catalog for: the table (read, created or updated from
#: the dataset spec), its partitions switched (created or updated in batches), and read back by
#: retention to know which runs are still referenced.
PUBLISH_CATALOG_ACTIONS = (
    "glue:GetTable",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartitions",
    "glue:BatchCreatePartition",
    "glue:BatchUpdatePartition",
    # A partition a run left without rows (its raw deleted) leaves the catalog.
    "glue:BatchDeletePartition",
)


def publish_requests(
    bucket: str,
    spec: DatasetSpec,
    database: str,
    why: str,
    partition: str = "aws",
    region: str = "eu-west-1",
    account: str = "123456789012",
) -> list[Request]:
    """What writing and publishing one run of a processed table asks S3 and Glue for.

    The executors write ``<table>/_runs/<run>/`` (:func:`spark_write_requests`); the driver lists the
    table's runs, switches the catalog (:data:`PUBLISH_CATALOG_ACTIONS` on the catalog, the database
    and the table), writes the publish marker (``processed/_published/<dataset>/``), and marks and
    deletes runs past their retention (their files read, written and deleted).
    """
    runs = runs_prefix(spec)
    base = f"arn:{partition}:glue:{region}:{account}"
    catalog = (f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{spec.table_name}")
    return [
        *spark_write_requests(bucket, runs, f"{why} (the executors write the run)", partition),
        Request(
            "s3:PutObject",
            _object_arn(partition, bucket, f"{join_key(PUBLISHED_PREFIX, spec.name)}/*"),
            {},
            f"{why} (the publish marker)",
        ),
        *(
            Request(action, arn, {}, f"{why} (the catalog switch)")
            for action in PUBLISH_CATALOG_ACTIONS
            for arn in catalog
        ),
    ]


def job_contract(renderer: TemplateRenderer, job: str) -> JobContract:
    """The contract of the source a template's ``AWS::Glue::Job`` runs (its ``--source`` argument)."""
    props = renderer.resources[job]["Properties"]
    script = str(renderer.render(props["Command"]["ScriptLocation"], f".{job}")).rsplit("/", 1)[-1]
    source = str((props.get("DefaultArguments") or {}).get("--source"))
    try:
        if script != GLUE_SCRIPT:
            raise ConfigurationError(f"runs {script}, not {GLUE_SCRIPT}")
        return source_contract(get_source(source))
    except (ConfigurationError, UnknownSourceError) as error:
        raise ConfigurationError(
            f"{renderer.name}.{job}: {error}",
            hint=f"every Glue job runs {GLUE_SCRIPT} with --source NAME of datalake/sources/registry.py",
        ) from None


def trigger_raw_prefixes(ingestion: TemplateRenderer) -> dict[str, str]:
    """``{raw prefix: Glue job name}`` as the start-transform trigger runs them (each job again with
    ``--raw_prefix`` of every prefix it serves; ``raw/ree_sample`` shares the REE job)."""
    found: dict[str, str] = {}
    for function, props in lambda_functions(ingestion.template).items():
        variables = (props.get("Environment") or {}).get("Variables") or {}
        for prefix, setting in raw_prefix_jobs().items():
            if setting.upper() in variables:
                name = str(ingestion.render(variables[setting.upper()], f".{function}"))
                if found.setdefault(prefix, name) != name:
                    raise ConfigurationError(f"{ingestion.name}: functions disagree on the job of {prefix}")
    return found


def glue_job_data_requests(
    renderer: TemplateRenderer, job: str, trigger_prefixes: Mapping[str, str] | None = None
) -> list[Request]:
    """What a Glue job's code does in the lake with the job's role, from its definition and contract.

    Parameters
    ----------
    renderer
        The transforms template with its bindings.
    job
        The ``AWS::Glue::Job``'s logical id.
    trigger_prefixes
        ``{raw prefix: job name}`` the trigger starts runs for (:func:`trigger_raw_prefixes`);
        the job's own ``--raw_prefix`` is always read.

    Returns
    -------
    list of Request
        Spark's reads of each raw prefix (and of the tables it merges into); publishing each
        processed table; its quarantine files, its run reports and its run metrics.
    """
    props = renderer.resources[job]["Properties"]
    arguments = {
        k: str(v) for k, v in renderer.render(props.get("DefaultArguments") or {}, f".{job}").items()
    }
    if "--lake_bucket" not in arguments or "--raw_prefix" not in arguments:
        raise ConfigurationError(
            f"{renderer.name}.{job}: DefaultArguments name no --lake_bucket or --raw_prefix"
        )
    bucket, partition = arguments["--lake_bucket"], renderer.bindings.partition
    name = str(renderer.render(props.get("Name", {"Ref": job}), f".{job}"))
    contract = job_contract(renderer, job)
    prefixes = {arguments["--raw_prefix"]} | {p for p, n in (trigger_prefixes or {}).items() if n == name}
    requests: list[Request] = []
    for prefix in sorted(prefixes):
        requests += spark_read_requests(bucket, prefix, f"{job} reads {prefix}", partition)
    for spec in contract.reads_back:
        # The folders the catalog points at: one run's folder (or a partition of it) each.
        requests += spark_read_requests(
            bucket, f"{runs_prefix(spec)}/*", f"{job} merges into {spec.name}", partition
        )
    databases = {
        "": arguments.get("--processed_database", ""),
        SOURCE: arguments.get("--energy_processed_database", ""),
    }
    for spec in contract.publishes:
        if not databases.get(spec.zone_folder):
            raise ConfigurationError(
                f"{renderer.name}.{job}: DefaultArguments name no processed database for {spec.name} "
                "(--processed_database, --energy_processed_database)"
            )
        requests += publish_requests(
            bucket,
            spec,
            databases[spec.zone_folder],
            f"{job} publishes {spec.name}",
            partition,
            renderer.bindings.region,
            renderer.bindings.account,
        )
    for folder in contract.quarantines:
        requests += spark_write_requests(
            bucket, join_key(QUARANTINE_PREFIX, folder), f"{job} quarantines bad records", partition
        )
    for option, written in sorted(contract.option_writes.items()):
        if arguments.get(f"--{option}") != "true":
            continue
        for prefix in written:
            # Spark's files, then the driver's (put; a listing for whether a key exists): the
            # same actions under the prefix.
            requests += spark_write_requests(bucket, prefix, f"{job} writes {prefix} (--{option})", partition)
    requests.append(
        Request(
            "s3:PutObject",
            _object_arn(partition, bucket, f"{join_key(RUNS_PREFIX, contract.run_name)}/*"),
            {},
            f"{job} writes its run report",
        )
    )
    # Each run ends by publishing its run metrics (datalake.pipelines.freshness.record_run_metrics)
    # into the namespace its arguments name (the settings' default when they name none).
    namespace = arguments.get("--metrics_namespace", Settings.model_fields["metrics_namespace"].default)
    requests.append(metric_data_request(namespace, f"{job} publishes its run metrics"))
    # Incremental runs (datalake/pipelines/ledger.py): the ledger of each raw prefix it reads, and
    # the parsed rows a merging job (the energy company's) keeps between runs.
    for prefix in sorted(prefixes):
        key = ledger_key(contract.run_name, prefix)
        ledger = _object_arn(partition, bucket, key)
        for action in ("s3:GetObject", "s3:PutObject"):
            requests.append(Request(action, ledger, {}, f"{job} keeps its ledger of {prefix}"))
        # Whether the ledger exists is a listing of its key (see S3ObjectStore.exists).
        requests.append(
            Request(
                "s3:ListBucket",
                _bucket_arn(partition, bucket),
                {"s3:prefix": key},
                f"{job} looks for its ledger of {prefix}",
            )
        )
        if contract.reads_back:
            # Spark writes and reads the kept rows; the driver lists them to prune old runs' folders.
            state = state_root(contract.run_name, prefix)
            why = f"{job} keeps the parsed rows of {prefix}"
            requests += spark_read_requests(bucket, state, why, partition)
            requests += spark_write_requests(bucket, state, why, partition)
    return requests


# -- crawlers ------------------------------------------------------------------------------------------

#: What every crawler does in its database: find its tables, create them, read and add partitions.
CRAWLER_CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
)
#: What each SchemaChangePolicy behaviour adds (LOG only writes to the crawler's log).
CRAWLER_UPDATE_ACTIONS = {
    "UPDATE_IN_DATABASE": ("glue:UpdateTable", "glue:UpdatePartition", "glue:BatchUpdatePartition"),
    "LOG": (),
}
CRAWLER_DELETE_ACTIONS = {
    "DELETE_FROM_DATABASE": ("glue:DeleteTable", "glue:DeletePartition", "glue:BatchDeletePartition"),
    "DEPRECATE_IN_DATABASE": ("glue:UpdateTable",),
    "LOG": (),
}
#: Crawlers log to this group, one stream per crawler (without CloudWatch encryption).
CRAWLER_LOG_GROUP = "/aws-glue/crawlers"


def _security_configuration(renderer: TemplateRenderer, crawler: str, reference: Any) -> None:
    """Refuses a security configuration whose encryption would need requests not modelled here."""
    if reference is None:
        return
    target = reference.get("Ref") if isinstance(reference, dict) else None
    resource = renderer.resources.get(str(target))
    if resource is None or resource["Type"] != "AWS::Glue::SecurityConfiguration":
        raise UnsupportedPolicyError(
            f"{renderer.name}.{crawler}: its security configuration is not one of this template"
        )
    config = resource["Properties"]["EncryptionConfiguration"]
    modes = [e.get("S3EncryptionMode", "DISABLED") for e in config.get("S3Encryptions", [])]
    modes.append((config.get("CloudWatchEncryption") or {}).get("CloudWatchEncryptionMode", "DISABLED"))
    if any(mode not in ("DISABLED", "SSE-S3") for mode in modes):
        raise UnsupportedPolicyError(
            f"{renderer.name}.{crawler}: KMS encryption in {target} (key grants and an encrypted log "
            "group) is not modelled by the IAM check"
        )


def crawler_requests(renderer: TemplateRenderer, crawler: str) -> list[Request]:
    """What a crawler does with its role, from its definition.

    Parameters
    ----------
    renderer
        The crawler's template with its bindings.
    crawler
        The ``AWS::Glue::Crawler``'s logical id.

    Returns
    -------
    list of Request
        For each S3 target: the listing of its prefix (checked when the crawler is created, then
        crawled folder by folder) and ``s3:GetObject`` of its files; in its database: the
        catalog actions of :data:`CRAWLER_CATALOG_ACTIONS` plus those its ``SchemaChangePolicy``
        adds, on the catalog, the database and its tables; its log stream.

    Raises
    ------
    UnsupportedPolicyError
        For targets other than S3, or KMS encryption in its security configuration.
    """
    props = renderer.resources[crawler]["Properties"]
    where, b = f".{crawler}", renderer.bindings
    targets = props.get("Targets") or {}
    if set(targets) - {"S3Targets"}:
        raise UnsupportedPolicyError(f"{renderer.name}.{crawler}: only S3 targets are modelled")
    _security_configuration(renderer, crawler, props.get("CrawlerSecurityConfiguration"))
    name = str(renderer.render(props["Name"], where))
    requests: list[Request] = []
    for target in targets.get("S3Targets", []):
        path = str(renderer.render(target["Path"], where))
        if not path.startswith("s3://"):
            raise ConfigurationError(f"{renderer.name}.{crawler}: target {path!r} is not an s3:// path")
        bucket, _, prefix = path[5:].partition("/")
        why = f"crawler {name} crawls {path}"
        requests += [
            Request("s3:ListBucket", _bucket_arn(b.partition, bucket), {"s3:prefix": prefix}, why),
            Request("s3:ListBucket", _bucket_arn(b.partition, bucket), {"s3:prefix": f"{prefix}*"}, why),
            Request("s3:GetObject", _object_arn(b.partition, bucket, f"{prefix}*"), {}, why),
        ]
    database = str(renderer.render(props["DatabaseName"], where))
    policy = props.get("SchemaChangePolicy") or {}
    update, delete = (
        policy.get("UpdateBehavior", "UPDATE_IN_DATABASE"),
        policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE"),
    )
    actions = (*CRAWLER_CATALOG_ACTIONS, *CRAWLER_UPDATE_ACTIONS[update], *CRAWLER_DELETE_ACTIONS[delete])
    glue = f"arn:{b.partition}:glue:{b.region}:{b.account}"
    resources = (f"{glue}:catalog", f"{glue}:database/{database}", f"{glue}:table/{database}/*")
    why = f"crawler {name} catalogs into {database}"
    requests += [
        Request(action, arn, {}, why)
        for action in dict.fromkeys(actions)
        for arn in (resources[:2] if action in ("glue:GetDatabase",) else resources)
    ]
    logs = f"arn:{b.partition}:logs:{b.region}:{b.account}:log-group:{CRAWLER_LOG_GROUP}"
    why = f"crawler {name} writes its log"
    requests += [
        Request("logs:CreateLogGroup", logs, {}, why),
        Request("logs:CreateLogStream", f"{logs}:log-stream:{name}", {}, why),
        Request("logs:PutLogEvents", f"{logs}:log-stream:{name}", {}, why),
    ]
    return requests
