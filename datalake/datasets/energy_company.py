"""The energy company's three entities (clientes, proveedores, transacciones): specs and vocabularies.

The CSV drops name their columns in ``source_columns``; the landing Lambda recognises a file's
entity by matching its header against them, and the Glue job reads the same names.
Canonical text values are upper case, NFC, with the Spanish accents (``BOGOTÁ``, ``EÓLICA``).
"""

from __future__ import annotations

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: Where the company's files live in every zone: raw/, processed/, quarantine/ and rejected/.
SOURCE = "energy_company"

TIPOS_IDENTIFICACION = ("CC", "NIT", "CE")
TIPOS_TRANSACCION = ("COMPRA", "VENTA")
TIPOS_ENERGIA = ("EÓLICA", "HIDROELÉCTRICA", "SOLAR", "TÉRMICA", "NUCLEAR")
#: Price bands, cheapest first; the terciles of the price within each energy type (see transforms).
BANDAS_PRECIO = ("económico", "promedio", "costoso")

#: Colombian cities in canonical spelling; city names are matched to these without accents.
CIUDADES = (
    "BOGOTÁ",
    "MEDELLÍN",
    "CALI",
    "BARRANQUILLA",
    "CARTAGENA",
    "BUCARAMANGA",
    "CÚCUTA",
    "PEREIRA",
    "MANIZALES",
    "SANTA MARTA",
    "IBAGUÉ",
    "VILLAVICENCIO",
    "PASTO",
    "MONTERÍA",
    "NEIVA",
    "ARMENIA",
    "POPAYÁN",
    "VALLEDUPAR",
    "TUNJA",
    "SINCELEJO",
)
#: Other spellings of a canonical city (after upper case and accent folding).
CIUDAD_ALIAS = {"BOGOTA D.C.": "BOGOTÁ", "BOGOTA DC": "BOGOTÁ", "SANTAFE DE BOGOTA": "BOGOTÁ"}

# Colombian retail tariffs are 500-1,200 COP/kWh and wholesale 150-900; anything above 10,000 is
# a unit or parsing error. A single transaction above 100 GWh is one too.
MAX_PLAUSIBLE_PRICE_COP_KWH = 10_000.0
MAX_PLAUSIBLE_QUANTITY_KWH = 100_000_000.0

LOAD_DATE = ColumnSpec("fecha_carga", "date", False, "Date the drop landed (UTC)")

CLIENTES = DatasetSpec(
    name="energy_clientes",
    catalog_name="clientes",
    zone_folder=SOURCE,
    description="The energy company's clients, one row per identification (latest drop wins).",
    columns=(
        ColumnSpec("tipo_identificacion", "string", False, "CC (cédula), NIT (company) or CE (foreigner)"),
        ColumnSpec("identificacion", "string", False, "Identification number, digits only", personal=True),
        ColumnSpec("nombre", "string", False, "Client name, upper case", personal=True),
        ColumnSpec("ciudad", "string", False, "City, canonical spelling (BOGOTÁ)"),
        LOAD_DATE,
    ),
    primary_key=("tipo_identificacion", "identificacion"),
    time_column="fecha_carga",
    warehouse_table="energy_clientes",
    quality_rules=(QualityRule("tipo_identificacion", "allowed_values", allowed=TIPOS_IDENTIFICACION),),
    source=SOURCE,
    source_columns=("tipo_identificacion", "identificacion", "nombre", "ciudad"),
)

PROVEEDORES = DatasetSpec(
    name="energy_proveedores",
    catalog_name="proveedores",
    zone_folder=SOURCE,
    description="The energy company's suppliers, one row per name (latest drop wins).",
    columns=(
        ColumnSpec("nombre_proveedor", "string", False, "Supplier name, upper case"),
        ColumnSpec("tipo_energia", "string", False, "EÓLICA, HIDROELÉCTRICA, SOLAR, TÉRMICA or NUCLEAR"),
        ColumnSpec("fecha_registro", "date", False, "Date the supplier was registered"),
        LOAD_DATE,
    ),
    primary_key=("nombre_proveedor",),
    time_column="fecha_carga",
    warehouse_table="energy_proveedores",
    quality_rules=(QualityRule("tipo_energia", "allowed_values", allowed=TIPOS_ENERGIA),),
    source=SOURCE,
    source_columns=("nombre_proveedor", "tipo_energia", "fecha_registro"),
)

TRANSACCIONES = DatasetSpec(
    name="energy_transacciones",
    catalog_name="transacciones",
    zone_folder=SOURCE,
    description="Energy bought from suppliers (COMPRA) and sold to clients (VENTA).",
    columns=(
        ColumnSpec("transaccion_id", "string", False, "SHA-256 of the natural key (every source column)"),
        ColumnSpec("tipo_transaccion", "string", False, "COMPRA (from a supplier) or VENTA (to a client)"),
        ColumnSpec(
            "nombre_cliente_proveedor",
            "string",
            False,
            "Client (VENTA) or supplier (COMPRA) name",
            personal=True,
        ),
        ColumnSpec("tipo_energia", "string", False, "EÓLICA, HIDROELÉCTRICA, SOLAR, TÉRMICA or NUCLEAR"),
        ColumnSpec("cantidad_comprada_kwh", "double", False, "Energy traded, kWh"),
        ColumnSpec("precio_kwh_cop", "double", False, "Unit price, COP per kWh"),
        ColumnSpec("precio_total_cop", "double", False, "cantidad_comprada_kwh x precio_kwh_cop, COP"),
        ColumnSpec(
            "banda_precio",
            "string",
            False,
            "económico / promedio / costoso: tercile of the price within its energy type in the batch",
        ),
        ColumnSpec("fecha_transaccion", "date", False, "Date of the transaction"),
        ColumnSpec(
            "contraparte_conocida", "boolean", False, "The client (VENTA) or supplier (COMPRA) is known"
        ),
        LOAD_DATE,
    ),
    primary_key=("transaccion_id",),
    time_column="fecha_transaccion",
    partition_by=(ColumnSpec("year", "int", False), ColumnSpec("month", "int", False)),
    partition_source="fecha_transaccion",
    warehouse_table="energy_transacciones",
    indexes=(("tipo_transaccion", "tipo_energia"),),
    quality_rules=(
        QualityRule("tipo_transaccion", "allowed_values", allowed=TIPOS_TRANSACCION),
        QualityRule("tipo_energia", "allowed_values", allowed=TIPOS_ENERGIA),
        QualityRule("cantidad_comprada_kwh", "range", 0.0, MAX_PLAUSIBLE_QUANTITY_KWH),
        QualityRule("precio_kwh_cop", "range", 0.0, MAX_PLAUSIBLE_PRICE_COP_KWH),
    ),
    source=SOURCE,
    source_columns=(
        "tipo_transaccion",
        "nombre_cliente_proveedor",
        "tipo_energia",
        "cantidad_comprada_kwh",
        "precio_kwh_cop",
        "fecha_transaccion",
    ),
)

#: Entity name (the raw and processed folder, the catalog table) -> spec.
ENTITIES: dict[str, DatasetSpec] = {spec.table_name: spec for spec in (CLIENTES, PROVEEDORES, TRANSACCIONES)}
