"""What a deployed lake costs while it runs, and what outlives its stacks: read from the stacks.

``datalake deploy smoke`` prints the cost-relevant resources of the stacks it deployed (the database
instance class, NAT gateways, load balancers, interface endpoints, the API host's instance type, the
SageMaker endpoint, Glue DPUs) and, when it tears the stacks down, lists the resources their
templates retain (buckets, secrets, audit log groups, the database's final snapshot), deleting them
only when asked. Every function takes a ``client(service)`` callable, so the same code runs against
AWS, moto, or a stand-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

Clients = Callable[[str], Any]
#: DPUs per worker of each Glue worker type (Glue's pricing unit).
GLUE_WORKER_DPUS = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
#: Deletion policies that keep a resource (or its data) when its stack goes.
RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})


@dataclass(frozen=True)
class CostRow:
    """One resource that bills by the hour (or by the run) while the lake is up."""

    layer: str
    resource: str
    kind: str
    what: str


@dataclass(frozen=True)
class RetainedResource:
    """A resource whose stack is gone but which the template keeps (or snapshots)."""

    layer: str
    resource: str
    kind: str
    physical_id: str
    policy: str

    def __str__(self) -> str:
        if self.kind == "AWS::RDS::DBInstance":
            return f"final snapshot of RDS instance {self.physical_id} ({self.layer}.{self.resource})"
        return f"{self.physical_id} ({self.kind}, {self.layer}.{self.resource}, {self.policy})"


def stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """A stack's resources that exist (``PhysicalResourceId`` set), every page."""
    rows = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        rows += [r for r in page["StackResourceSummaries"] if r.get("PhysicalResourceId")]
    return rows


# -- cost ------------------------------------------------------------------------------------------


def _database(client: Clients, physical_id: str) -> str:
    [db] = client("rds").describe_db_instances(DBInstanceIdentifier=physical_id)["DBInstances"]
    storage = f"{db.get('AllocatedStorage', '?')} GB {db.get('StorageType', '')}".strip()
    return f"{db['DBInstanceClass']}, {storage}, {'multi-AZ' if db.get('MultiAZ') else 'single AZ'}"


def _nat(client: Clients, physical_id: str) -> str:
    [nat] = client("ec2").describe_nat_gateways(NatGatewayIds=[physical_id])["NatGateways"]
    return f"NAT gateway {physical_id} ({nat.get('State', '?')}): hourly, plus per GB processed"


def _load_balancer(client: Clients, physical_id: str) -> str:
    [lb] = client("elbv2").describe_load_balancers(LoadBalancerArns=[physical_id])["LoadBalancers"]
    zones = len(lb.get("AvailabilityZones", []))
    return f"{lb.get('Type', 'application')} load balancer {lb['LoadBalancerName']}, {zones} AZs"


def _endpoint(client: Clients, physical_id: str) -> str | None:
    [endpoint] = client("ec2").describe_vpc_endpoints(VpcEndpointIds=[physical_id])["VpcEndpoints"]
    if endpoint.get("VpcEndpointType") != "Interface":
        return None  # gateway endpoints (S3) are free
    zones = len(endpoint.get("SubnetIds", []))
    return f"interface endpoint {endpoint['ServiceName']}, {zones} AZs"


def _launch_template(client: Clients, physical_id: str) -> str:
    versions = client("ec2").describe_launch_template_versions(
        LaunchTemplateId=physical_id, Versions=["$Latest"]
    )
    [latest] = versions["LaunchTemplateVersions"]
    return f"API host instance type {latest['LaunchTemplateData'].get('InstanceType', '?')}"


def _group(client: Clients, physical_id: str) -> str:
    groups = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[physical_id])
    [group] = groups["AutoScalingGroups"]
    return f"{group['DesiredCapacity']} instance(s) running (min {group['MinSize']}, max {group['MaxSize']})"


def _sagemaker_endpoint(client: Clients, physical_id: str) -> str:
    sagemaker = client("sagemaker")
    name = physical_id.rsplit("/", 1)[-1]
    config_name = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    return ", ".join(
        f"{v.get('InitialInstanceCount', 1)} × {v.get('InstanceType', 'serverless')}" for v in variants
    )


def _kinesis_stream(client: Clients, physical_id: str) -> str:
    summary = client("kinesis").describe_stream_summary(StreamName=physical_id)["StreamDescriptionSummary"]
    shards = summary.get("OpenShardCount", "?")
    return f"Kinesis stream {physical_id}: {shards} shard(s) by the hour, plus per million puts"


#: Resource type -> how to say what it costs (None: free, left out).
COST_DESCRIBERS: dict[str, Callable[[Clients, str], str | None]] = {
    "AWS::RDS::DBInstance": _database,
    "AWS::EC2::NatGateway": _nat,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::EC2::VPCEndpoint": _endpoint,
    "AWS::EC2::LaunchTemplate": _launch_template,
    "AWS::AutoScaling::AutoScalingGroup": _group,
    "AWS::SageMaker::Endpoint": _sagemaker_endpoint,
    "AWS::Kinesis::Stream": _kinesis_stream,
    "AWS::WAFv2::WebACL": lambda _client, physical_id: "web ACL: monthly, per rule and per million requests",
}


def glue_job_cost(client: Clients, job: str) -> str:
    """A Glue job's capacity per run: workers × type = DPUs, and its timeout."""
    spec = client("glue").get_job(JobName=job)["Job"]
    workers, kind = spec.get("NumberOfWorkers"), spec.get("WorkerType")
    if workers and kind in GLUE_WORKER_DPUS:
        capacity = f"{workers} × {kind} = {workers * GLUE_WORKER_DPUS[kind]:g} DPU"
    else:
        capacity = f"{spec.get('MaxCapacity', '?')} DPU"
    return f"{capacity} while a run lasts (timeout {spec.get('Timeout', '?')} min)"


def cost_rows(
    client: Clients, stacks: Mapping[str, str], glue_jobs: Mapping[str, str] | None = None
) -> list[CostRow]:
    """The cost-relevant resources of ``stacks`` (layer -> stack name) and of the Glue jobs named.

    A resource whose description fails (gone, not allowed) is listed with the error rather than
    dropped: the point is to see what runs.
    """
    cfn = client("cloudformation")
    rows = []
    for layer, stack in stacks.items():
        for resource in stack_resources(cfn, stack):
            describe = COST_DESCRIBERS.get(resource["ResourceType"])
            if describe is None:
                continue
            try:
                what = describe(client, resource["PhysicalResourceId"])
            except (ClientError, ValueError) as error:
                what = f"could not describe it: {error}"
            if what is not None:
                rows.append(CostRow(layer, resource["LogicalResourceId"], resource["ResourceType"], what))
    for name, job in (glue_jobs or {}).items():
        try:
            what = glue_job_cost(client, job)
        except ClientError as error:
            what = f"could not describe it: {error}"
        rows.append(CostRow("transforms", name, "AWS::Glue::Job", f"{job}: {what}"))
    return rows


# -- what outlives the stacks ------------------------------------------------------------------------


def retained_resources(
    layer: str, template: Mapping[str, Any], resources: list[dict[str, Any]]
) -> list[RetainedResource]:
    """The deployed ``resources`` of a stack whose template keeps them after a deletion."""
    declared = template.get("Resources", {})
    kept = []
    for resource in resources:
        policy = declared.get(resource["LogicalResourceId"], {}).get("DeletionPolicy", "Delete")
        if policy in RETAINING_POLICIES:
            kept.append(
                RetainedResource(
                    layer,
                    resource["LogicalResourceId"],
                    resource["ResourceType"],
                    resource["PhysicalResourceId"],
                    policy,
                )
            )
    return kept


def _object_versions(s3: Any, bucket: str) -> Iterator[list[dict[str, str]]]:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        batch = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if batch:
            yield batch


def delete_retained(client: Clients, resource: RetainedResource) -> str:
    """Delete one retained resource; returns what was done (or why it was left).

    Buckets are emptied of every version first; secrets keep Secrets Manager's shortest recovery
    window (7 days; their generated names never block a redeploy); the database's final snapshots
    (manual snapshots of that instance) are deleted; a table loses its deletion protection, then
    goes; a KMS key is scheduled for deletion after KMS's shortest window (7 days).
    """
    kind, physical_id = resource.kind, resource.physical_id
    if kind == "AWS::S3::Bucket":
        s3 = client("s3")
        objects = 0
        for batch in _object_versions(s3, physical_id):
            for start in range(0, len(batch), 1000):
                s3.delete_objects(
                    Bucket=physical_id, Delete={"Objects": batch[start : start + 1000], "Quiet": True}
                )
            objects += len(batch)
        s3.delete_bucket(Bucket=physical_id)
        return f"deleted bucket {physical_id} ({objects} object version(s))"
    if kind == "AWS::SecretsManager::Secret":
        client("secretsmanager").delete_secret(SecretId=physical_id, RecoveryWindowInDays=7)
        return f"scheduled secret {physical_id} for deletion in 7 days"
    if kind == "AWS::Logs::LogGroup":
        client("logs").delete_log_group(logGroupName=physical_id)
        return f"deleted log group {physical_id}"
    if kind == "AWS::RDS::DBInstance":
        rds = client("rds")
        snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=physical_id, SnapshotType="manual")
        names = [s["DBSnapshotIdentifier"] for s in snapshots["DBSnapshots"]]
        for name in names:
            rds.delete_db_snapshot(DBSnapshotIdentifier=name)
        return f"deleted {len(names)} snapshot(s) of {physical_id}"
    if kind == "AWS::DynamoDB::Table":
        dynamodb = client("dynamodb")
        # Deletion protection (prod) would refuse the deletion.
        dynamodb.update_table(TableName=physical_id, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=physical_id)
        return f"deleted table {physical_id} (its point-in-time backups go with it)"
    if kind == "AWS::KMS::Key":
        client("kms").schedule_key_deletion(KeyId=physical_id, PendingWindowInDays=7)
        return f"scheduled KMS key {physical_id} for deletion in 7 days"
    return f"left {resource}: delete it by hand"
