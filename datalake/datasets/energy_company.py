"""The energy company's three entities (clientes, proveedores, transacciones): specs and vocabularies.

The CSV drops name their columns in ``source_columns``; the landing Lambda recognises a file's
entity by matching its header against them, and the Glue job reads the same names.
Canonical text values are upper case, NFC, with the Spanish accents (``BOGOTÁ``, ``EÓLICA``).
"""

from __future__ import annotations

from datalake.datasets.semantics import Dimension, Measure, Semantics, TimeAxis, Words
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

# -- what /ask may ask (the semantic layer) ----------------------------------------------------------

_SUBJECT_WORDS = Words(
    ("empresa de energía", "comercializadora", "la empresa", "nuestra empresa"),
    ("energy company", "the company", "our company"),
)
_ENERGY_TYPES = {
    # "energía solar" is the value, not the measure "energía".
    "EÓLICA": Words(("eólica", "eólico", "viento", "energía eólica"), ("wind", "wind energy", "wind power")),
    "HIDROELÉCTRICA": Words(
        ("hidroeléctrica", "hidráulica", "hidro", "energía hidroeléctrica"),
        ("hydro", "hydroelectric", "hydropower", "hydro energy"),
    ),
    "SOLAR": Words(("solar", "energía solar"), ("solar", "solar energy", "solar power")),
    "TÉRMICA": Words(("térmica", "térmico", "energía térmica"), ("thermal", "thermal energy")),
    "NUCLEAR": Words(("nuclear", "energía nuclear"), ("nuclear", "nuclear energy", "nuclear power")),
}
_ENERGY_TYPE = Dimension(
    "energy_type",
    "tipo_energia",
    Words(
        ("tipo de energía", "tipos de energía", "fuente de energía", "fuentes de energía"),
        (
            "energy type",
            "energy types",
            "type of energy",
            "types of energy",
            "energy source",
            "energy sources",
        ),
    ),
    values=_ENERGY_TYPES,
)
_CLIENT_SEMANTICS = Semantics(
    subject="energy_company",
    entity=Words(("cliente", "clientes", "abonados"), ("client", "clients", "customer", "customers")),
    entity_names=Words(("cliente", "clientes"), ("client", "clients")),
    subject_words=_SUBJECT_WORDS,
    key=(),
    dimensions=(
        Dimension(
            "city",
            "ciudad",
            Words(("ciudad", "ciudades", "municipio"), ("city", "cities", "town")),
            values={c: Words((c.title(),), (c.title(),)) for c in CIUDADES},
        ),
        Dimension(
            "id_type",
            "tipo_identificacion",
            Words(
                ("tipo de identificación", "tipo de documento", "tipo de cliente"),
                ("identification type", "id type", "client type", "customer type"),
            ),
            values={
                "CC": Words(("personas", "persona natural", "cédula"), ("individuals", "people", "person")),
                "NIT": Words(("empresas", "empresa", "nit"), ("companies", "businesses", "business")),
                "CE": Words(
                    ("extranjeros", "extranjero", "cédula de extranjería"), ("foreigners", "foreign")
                ),
            },
        ),
    ),
)
_SUPPLIER_SEMANTICS = Semantics(
    subject="energy_company",
    entity=Words(
        ("proveedor", "proveedores", "suministradores", "generadores"),
        ("supplier", "suppliers", "provider", "providers", "vendor", "vendors"),
    ),
    entity_names=Words(("proveedor", "proveedores"), ("supplier", "suppliers")),
    subject_words=_SUBJECT_WORDS,
    key=(),
    label="nombre_proveedor",  # a company's name, not a person's
    dimensions=(_ENERGY_TYPE,),
    time=TimeAxis(
        "fecha_registro", words=Words(("registrados", "registro", "alta"), ("registered", "signed up"))
    ),
)
_TRANSACTION_SEMANTICS = Semantics(
    subject="energy_company",
    examples=Words(
        ("Compras vs ventas en marzo de 2024", "¿Cuántos clientes hay por ciudad?"),
        ("Purchases versus sales in March 2024", "Clients per city"),
    ),
    entity=Words(
        ("transacción", "transacciones", "operación", "operaciones", "movimientos"),
        ("transaction", "transactions", "trade", "trades", "deal", "deals"),
    ),
    entity_names=Words(("transacción", "transacciones"), ("transaction", "transactions")),
    subject_words=_SUBJECT_WORDS,
    key=(),
    time=TimeAxis("fecha_transaccion", words=Words(("fecha",), ("date",)), observed=True),
    order="amount",
    measures=(
        Measure(
            "energy",
            "cantidad_comprada_kwh",
            "kWh",
            Words(
                ("energía", "kwh", "kilovatios hora", "cantidad", "volumen"),
                ("energy", "kwh", "kilowatt hours", "quantity", "volume", "amount of energy"),
            ),
        ),
        Measure(
            "price",
            "precio_kwh_cop",
            "COP/kWh",
            Words(
                ("precio", "precios", "tarifa", "precio por kwh", "precio del kwh"),
                ("price", "prices", "tariff", "unit price", "price per kwh"),
            ),
            aggregations=("avg", "max", "min"),
            superlatives=Words(
                ("más caro", "más cara", "más caros", "más caras"), ("most expensive", "priciest")
            ),
            least=Words(("más barato", "más barata", "más baratos", "más baratas"), ("cheapest",)),
        ),
        Measure(
            "weighted_price",
            "precio_total_cop",
            "COP/kWh",
            Words(
                ("precio medio ponderado", "precio ponderado", "precio promedio ponderado"),
                ("weighted average price", "weighted price", "volume weighted price"),
            ),
            aggregations=("ratio",),
            ratio_of="cantidad_comprada_kwh",
        ),
        Measure(
            "amount",
            "precio_total_cop",
            "COP",
            Words(
                (
                    "importe",
                    "monto",
                    "gasto",
                    "gastos",
                    "gastado",
                    "gastaron",
                    "gastan",
                    "gasta",
                    "gastó",
                    "valor",
                    "facturación",
                    "facturado",
                    "dinero",
                    "pesos",
                    "cop",
                ),
                (
                    "spend",
                    "spent",
                    "spending",
                    "spends",
                    "spends",
                    "amount",
                    "value",
                    "money",
                    "turnover",
                    "billed",
                ),
            ),
        ),
    ),
    dimensions=(
        Dimension(
            "kind",
            "tipo_transaccion",
            Words(("tipo de transacción", "tipo de operación"), ("transaction type",)),
            values={
                "COMPRA": Words(
                    ("compras", "compra", "compramos", "comprada", "comprado", "compró"),
                    ("purchases", "purchase", "bought", "buys", "buying"),
                ),
                "VENTA": Words(
                    ("ventas", "venta", "vendimos", "vendida", "vendido", "vendió"),
                    ("sales", "sale", "sold", "sells", "selling"),
                ),
            },
        ),
        _ENERGY_TYPE,
        Dimension(
            "price_band",
            "banda_precio",
            Words(("banda de precio", "franja de precio"), ("price band",)),
            values={
                "económico": Words(("económico", "económicas", "baratas"), ("cheap", "economy", "low price")),
                "promedio": Words(("banda media", "franja media"), ("mid band", "mid price")),
                "costoso": Words(("costoso", "costosas", "caras"), ("expensive", "high price")),
            },
        ),
        Dimension(
            "known_counterparty",
            "contraparte_conocida",
            Words(("contraparte conocida",), ("known counterparty",)),
            values={
                False: Words(
                    (
                        "contraparte desconocida",
                        "cliente desconocido",
                        "proveedor desconocido",
                        "desconocida",
                    ),
                    ("unknown counterparty", "unknown client", "unknown supplier", "unknown"),
                ),
                True: Words(
                    ("contraparte conocida", "cliente conocido"), ("known counterparty", "known client")
                ),
            },
        ),
        # Who bought or sold: names of people and firms, so /ask never groups or lists by them.
        Dimension(
            "counterparty",
            "nombre_cliente_proveedor",
            Words(
                ("cliente", "clientes", "proveedor", "proveedores", "contraparte"),
                ("client", "clients", "customer", "customers", "supplier", "suppliers", "counterparty"),
            ),
            personal=True,
        ),
    ),
)

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
    askable=True,
    ask=_CLIENT_SEMANTICS,
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
    askable=True,
    ask=_SUPPLIER_SEMANTICS,
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
    askable=True,
    ask=_TRANSACTION_SEMANTICS,
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
