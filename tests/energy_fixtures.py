"""A small fixed day of energy company drops whose processed rows and query answers are known by construction.

Dirty on purpose: spacing, case, missing accents, a Latin-1 ``;`` file, a decimal comma, dotted
identification numbers, a repeated row, unknown counterparties and one bad row per reason.
"""

from __future__ import annotations

import datetime as dt

from datalake.settings import Settings
from datalake.storage.local import LocalObjectStore

LANDED = dt.datetime(2024, 6, 3, 7, 42, tzinfo=dt.UTC)

CLIENTES_CSV = (
    "tipo_identificacion;identificacion;nombre;ciudad\n"
    "CC;1.020.304;  josé   pérez ;bogota\n"
    "NIT;900.123.456-7;Industrias Andinas S.A.;Medellín\n"
    "CE;E-778899;Anne Martin;CALI\n"
    "c.c.;55 66 77;María López;Bogotá D.C.\n"
    "CC;1020304;José Pérez;Bogotá\n"  # the first client again: superseded
    "XX;123;Bad Type;Cali\n"
    "CC;;Sin Documento;Cali\n"
    "CC;abc;Letras;Cali\n"
    " ;12345;Sin Tipo;Cali\n"
).encode("latin-1")

PROVEEDORES_CSV = (
    "nombre_proveedor,tipo_energia,fecha_registro\n"
    "Vientos del Norte,eolica,2020-01-15\n"
    "Hidro Andes,Hidroeléctrica,15/03/2019\n"
    "Sol Caribe,SOLAR,2021-07-01\n"
    "Termo Costa,térmica,2018-11-30\n"
    "Sol Llanos,solar,2022-02-10\n"
    "Átomo Verde,nuclear,2023-05-05\n"
    "Mal Tipo,geotérmica,2020-01-01\n"
    "Fecha Mala,solar,2020-13-45\n"
).encode()

TRANSACCIONES_CSV = (
    "tipo_transaccion,nombre_cliente_proveedor,tipo_energia,cantidad_comprada_kwh,precio_kwh_cop,"
    "fecha_transaccion\n"
    "compra,Vientos del Norte,eólica,1000,200,2024-05-10\n"
    "compra,Sol Caribe,solar,2000,300,2024-05-15\n"
    "compra,Proveedor Fantasma,solar,500,400,2024-06-01\n"
    "venta,José Perez,solar,100,500,2024-05-20\n"
    'venta,Industrias Andinas S.A.,eolica,300,"700,5",2024-06-02\n'
    "venta,Maria Lopez,eólica,50,600,02/06/2024\n"
    "venta,Cliente Desconocido,solar,10,450,2024-06-02\n"
    "VENTA, José  Perez ,Solar,100,500,2024-05-20\n"  # row 4 again: a duplicate
    "venta,Anne Martin,solar,abc,500,2024-06-01\n"
    "venta,Anne Martin,solar,-5,500,2024-06-01\n"
    "trueque,Anne Martin,solar,5,500,2024-06-01\n"
    "venta,Anne Martin,solar,5,500,2024-02-30\n"
).encode()

DROPS = {
    "clientes_20240603.csv": CLIENTES_CSV,
    "proveedores_20240603.csv": PROVEEDORES_CSV,
    "transacciones_20240603.csv": TRANSACCIONES_CSV,
}

#: What the processed tables hold, by construction.
EXPECTED_OUT = {"clientes": 4, "proveedores": 6, "transacciones": 7}
EXPECTED_QUARANTINED = {"clientes": 5, "proveedores": 2, "transacciones": 5}


def land_fixed_day(settings: Settings, landed: dt.datetime = LANDED, drops: dict[str, bytes] | None = None):
    """Put the drops in landing and land them as the S3 events would; returns the run report."""
    from datalake.pipelines.ingest import land_energy_drops

    landing = LocalObjectStore(settings.lake_root / "landing")
    drops = DROPS if drops is None else drops
    for name, data in drops.items():
        landing.put_bytes(name, data)
    return land_energy_drops([(name, landed) for name in drops], settings=settings)
