"""/status: the sources, their freshness, the latest runs and the catalog's tables (needs the API key)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter

from api import examples
from api.deps import ClientDep, ServicesDep
from api.errors import ServiceUnavailableError
from api.schemas import LakeStatus
from api.services import lake_status
from datalake.errors import LakeError

router = APIRouter(prefix="/status", tags=["status"])


@router.get(
    "",
    response_model=LakeStatus,
    summary="Each source's last run and freshness, each job's latest run, and the catalog's tables",
    responses=examples.responses(
        401, 429, 503, ok={"content": {"application/json": {"example": examples.STATUS_RESPONSE}}}
    ),
)
def status(services: ServicesDep, _client: ClientDep) -> LakeStatus:
    """The same reading as ``datalake status`` (no row counts, which would scan the data).

    Names of tables, jobs and run outcomes are for operators, so the route needs ``X-API-Key``
    where a key is set. When the catalog or the lake cannot be read it answers 503.
    """
    try:
        report = lake_status.lake_status(services.settings, services.catalog)
    except (LakeError, OSError, BotoCoreError, ClientError) as error:  # a store or catalog is down: retry
        raise ServiceUnavailableError(
            f"the lake's status cannot be read now ({type(error).__name__})"
        ) from error
    return LakeStatus.model_validate(report)
