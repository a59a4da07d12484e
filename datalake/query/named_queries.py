"""Athena named queries kept as SQL files (``datalake/query/named/<name>.sql``), run on either engine.

The files are in the Athena dialect with unqualified table names, meant for the energy company's
processed database; CloudFormation declares the same files as ``AWS::Athena::NamedQuery``.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd

from datalake import runtime
from datalake.errors import LakeError
from datalake.settings import Settings, get_settings

if TYPE_CHECKING:
    import boto3

_PACKAGE = "datalake.query"
_FOLDER = "named"


class UnknownNamedQueryError(LakeError, KeyError):
    """A named query that has no SQL file."""

    def __str__(self) -> str:
        return str(self.args[0])


def named_query_names() -> list[str]:
    """The names of the named queries, sorted."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(
        entry.name.removesuffix(".sql") for entry in folder.iterdir() if entry.name.endswith(".sql")
    )


def named_query_sql(name: str) -> str:
    """The SQL of a named query; UnknownNamedQueryError lists the known names."""
    if name not in named_query_names():
        raise UnknownNamedQueryError(
            f"unknown named query {name!r} (known: {', '.join(named_query_names())})"
        )
    return resources.files(_PACKAGE).joinpath(_FOLDER).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def run_named_query(
    name: str, settings: Settings | None = None, boto3_session: boto3.session.Session | None = None
) -> pd.DataFrame:
    """Run a named query in the energy company's processed database (DuckDB locally, Athena on AWS).

    Parameters
    ----------
    name
        One of :func:`named_query_names`.
    settings
        Lake settings; the process-wide ones when None.
    boto3_session
        Session for Athena on the aws runtime.

    Returns
    -------
    pandas.DataFrame
        The query's rows.
    """
    settings = settings or get_settings()
    engine = runtime.query_engine(settings, boto3_session, database=settings.energy_processed_database)
    return engine.query(named_query_sql(name))
