"""Which warehouse rows a processed partition holds (issue 16: the warehouse mirrors the lake)."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.datasets.energy_company import CLIENTES, TRANSACCIONES
from datalake.errors import DataValidationError
from datalake.warehouse.scope import RowScope, partition_scope


def test_partition_scope_is_the_calendar_range_of_the_partition_source() -> None:
    assert partition_scope(DEMAND_HOURLY, "year=2024/month=03") == RowScope(
        "local_date", dt.date(2024, 3, 1), dt.date(2024, 4, 1)
    )
    assert partition_scope(DEMAND_HOURLY, "year=2024/month=12") == RowScope(
        "local_date", dt.date(2024, 12, 1), dt.date(2025, 1, 1)
    )
    assert partition_scope(GENERATION, "year=2024") == RowScope(
        "local_date", dt.date(2024, 1, 1), dt.date(2025, 1, 1)
    )
    assert partition_scope(TRANSACCIONES, "year=2024/month=2").column == "fecha_transaccion"
    assert partition_scope(CLIENTES, "") == RowScope()  # unpartitioned: the whole table


@pytest.mark.parametrize("path", ["year=2024", "month=3/year=2024", "year=2024/month=13", "year=x/month=1"])
def test_partition_path_not_naming_the_datasets_partition_is_refused(path: str) -> None:
    with pytest.raises(DataValidationError, match="partition"):
        partition_scope(DEMAND_HOURLY, path)
