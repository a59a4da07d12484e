"""Realistic SAMPLE extracts of the energy company: clientes, proveedores and transacciones CSV drops.

Colombian cities, CC/NIT/CE identifications, the five energy types with plausible COP/kWh prices,
and a small share of dirty rows of the kinds real extracts carry (spacing, case, missing accents,
decimal commas, unparsable or negative numbers, unknown counterparties). clientes is written the
way an old ERP exports it (``;``, Latin-1), the others as UTF-8 with ``,``.

Transactions are generated and written in chunks, so 10 million rows need the memory of one chunk;
they are split into files of at most ``rows_per_file`` rows (each a drop with its own header).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from datalake.datasets.energy_company import CIUDADES, CLIENTES, PROVEEDORES, TIPOS_ENERGIA, TRANSACCIONES

CHUNK_ROWS = 200_000
ROWS_PER_FILE = 1_000_000
#: Mean and spread of the wholesale price per energy type, COP/kWh (Colombian 2024 levels).
PRICE_COP_KWH = {
    "EÓLICA": (260, 40),
    "HIDROELÉCTRICA": (210, 35),
    "SOLAR": (280, 45),
    "TÉRMICA": (480, 80),
    "NUCLEAR": (350, 50),
}
_FIRST = [
    "Juan",
    "María",
    "Andrés",
    "Sofía",
    "Carlos",
    "Valentina",
    "Julián",
    "Camila",
    "Sebastián",
    "Lucía",
    "Felipe",
    "Mariana",
    "Óscar",
    "Daniela",
    "Nicolás",
    "Ángela",
    "Tomás",
    "Paula",
    "Iván",
    "Inés",
]
_LAST = [
    "Rodríguez",
    "Gómez",
    "González",
    "Martínez",
    "García",
    "López",
    "Hernández",
    "Sánchez",
    "Ramírez",
    "Pérez",
    "Díaz",
    "Muñoz",
    "Rojas",
    "Moreno",
    "Jiménez",
    "Castaño",
    "Ospina",
    "Peña",
    "Vélez",
    "Zuluaga",
]
_COMPANY = [
    "Industrias",
    "Textiles",
    "Comercializadora",
    "Agroindustrial",
    "Minera",
    "Cementos",
    "Alimentos",
    "Logística",
    "Metalúrgica",
    "Papeles",
]
_REGION = ["Andina", "del Caribe", "del Pacífico", "de Oriente", "del Valle", "Antioqueña", "Santandereana"]
_SUPPLIER = {
    "EÓLICA": "Vientos",
    "HIDROELÉCTRICA": "Hidro",
    "SOLAR": "Sol",
    "TÉRMICA": "Termo",
    "NUCLEAR": "Átomo",
}

Progress = Callable[[str], None]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _dirty_text(values: pd.Series, mask: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Spacing, case or accent noise on the rows in ``mask`` (a small share: a plain loop is fine)."""
    out = values.copy()
    rows = np.flatnonzero(mask)
    for row, kind in zip(rows, rng.integers(0, 3, len(rows)), strict=True):
        value = out.iat[row]
        out.iat[row] = ("  " + value.lower() + " ", value.upper(), _strip_accents(value))[kind]
    return out


def _clientes(count: int, rng: np.random.Generator, dirty_share: float) -> pd.DataFrame:
    tipo = rng.choice(["CC", "NIT", "CE"], size=count, p=[0.7, 0.25, 0.05])
    numbers = rng.choice(np.arange(10_000_000, 99_999_999), size=count, replace=False)
    person = (
        pd.Series(rng.choice(_FIRST, count)) + " " + rng.choice(_LAST, count) + " " + rng.choice(_LAST, count)
    )
    company = (
        pd.Series(rng.choice(_COMPANY, count))
        + " "
        + rng.choice(_REGION, count)
        + " "
        + pd.Series(np.arange(count)).astype(str)
        + " S.A.S."
    )
    # Names are unique: transactions name their counterparty, and a name shared by two clients
    # would make every match ambiguous.
    nombre = np.where(tipo == "NIT", company, person + " " + pd.Series(np.arange(count)).astype(str))
    identificacion = np.where(
        tipo == "CC", pd.Series(numbers).map("{:,}".format).str.replace(",", "."), numbers.astype(str)
    )
    frame = pd.DataFrame(
        {
            "tipo_identificacion": tipo,
            "identificacion": identificacion,
            "nombre": nombre,
            "ciudad": rng.choice(CIUDADES, count, p=_city_weights()),
        }
    )
    dirty = rng.random(count) < dirty_share
    frame["nombre"] = _dirty_text(frame["nombre"], dirty, rng)
    frame["ciudad"] = _dirty_text(frame["ciudad"].str.title(), dirty, rng)
    return frame[list(CLIENTES.source_columns)]


def _city_weights() -> np.ndarray:
    weights = np.array([1.0 / (rank + 1) for rank in range(len(CIUDADES))])
    return weights / weights.sum()


def _proveedores(count: int, rng: np.random.Generator, day: dt.date) -> pd.DataFrame:
    tipo = np.array([TIPOS_ENERGIA[i % len(TIPOS_ENERGIA)] for i in range(count)])
    nombre = [f"{_SUPPLIER[t]} {rng.choice(_REGION)} {i + 1} S.A. E.S.P." for i, t in enumerate(tipo)]
    registered = [day - dt.timedelta(days=int(d)) for d in rng.integers(30, 3650, count)]
    return pd.DataFrame(
        {"nombre_proveedor": nombre, "tipo_energia": [t.lower() for t in tipo], "fecha_registro": registered}
    )[list(PROVEEDORES.source_columns)]


def _transacciones(
    count: int,
    rng: np.random.Generator,
    day: dt.date,
    clientes: pd.Series,
    proveedores: pd.DataFrame,
    dirty_share: float,
) -> pd.DataFrame:
    venta = rng.random(count) < 0.7
    supplier = rng.integers(0, len(proveedores), count)
    tipo_energia = np.where(
        venta, rng.choice(TIPOS_ENERGIA, count), proveedores["tipo_energia"].str.upper().to_numpy()[supplier]
    )
    mean = np.array([PRICE_COP_KWH[t][0] for t in tipo_energia])
    spread = np.array([PRICE_COP_KWH[t][1] for t in tipo_energia])
    # The retailer sells at a margin over what it buys for.
    precio = np.round(np.maximum(rng.normal(mean, spread) * np.where(venta, 1.8, 1.0), 50), 2)
    cantidad = np.round(np.where(venta, rng.lognormal(7.5, 1.0, count), rng.lognormal(11, 0.8, count)), 1)
    nombre = np.where(
        venta,
        clientes.to_numpy()[rng.integers(0, len(clientes), count)],
        proveedores["nombre_proveedor"].to_numpy()[supplier],
    )
    fecha = pd.to_datetime(day) - pd.to_timedelta(rng.integers(1, 31, count), unit="D")
    frame = pd.DataFrame(
        {
            "tipo_transaccion": np.where(venta, "venta", "compra"),
            "nombre_cliente_proveedor": nombre,
            "tipo_energia": pd.Series(tipo_energia).str.lower(),
            "cantidad_comprada_kwh": cantidad.astype(str),
            "precio_kwh_cop": precio.astype(str),
            "fecha_transaccion": fecha.strftime("%Y-%m-%d"),
        }
    )
    dirty = np.flatnonzero(rng.random(count) < dirty_share)
    kinds = rng.integers(0, 6, len(dirty))
    for kind, name in enumerate(
        ("nombre_cliente_proveedor",) * 2 + ("cantidad_comprada_kwh",) * 3 + ("tipo_energia",)
    ):
        rows = dirty[kinds == kind]
        current = frame[name].iloc[rows]
        defect = (
            "  " + current.str.lower() + " ",  # spacing and case: cleaned by the job
            "Contraparte No Registrada " + pd.Series(rows, index=current.index).astype(str),  # flagged
            current.str.replace(".", ",", regex=False),  # a decimal comma: read by the job
            pd.Series("n/d", index=current.index),  # unparsable: quarantined
            "-" + current,  # negative: quarantined
            current.map(_strip_accents).str.upper(),  # no accents: matched to the canonical type
        )[kind]
        frame.iloc[rows, frame.columns.get_loc(name)] = defect.to_numpy()
    return frame[list(TRANSACCIONES.source_columns)]


def generate_drops(
    out: Path,
    rows: int,
    day: dt.date,
    *,
    seed: int = 7,
    dirty_share: float = 0.02,
    rows_per_file: int = ROWS_PER_FILE,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write one day of SAMPLE drops to ``out``: clientes, proveedores and ``rows`` transactions.

    Parameters
    ----------
    out
        Folder to write to (created); the landing folder for a local run.
    rows
        Transactions to write; clients scale with them (1 per 100, 20 to 100,000), suppliers too.
    day
        The extract's date: it names the files, and transactions fall in the 30 days before it.
    seed
        The same seed writes the same bytes.
    dirty_share
        Share of rows given one defect (a third of them make the row unusable: quarantined).
    rows_per_file
        Most transactions per file; more go to ``_partNNN`` files.
    progress
        Called after each chunk.

    Returns
    -------
    dict
        Path of each file written -> its data rows.
    """
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    stamp = day.strftime("%Y%m%d")
    written: dict[str, int] = {}
    clientes = _clientes(min(max(20, rows // 100), 100_000), rng, dirty_share)
    path = out / f"clientes_{stamp}.csv"
    clientes.to_csv(path, sep=";", index=False, encoding="latin-1")
    written[str(path)] = len(clientes)
    proveedores = _proveedores(min(max(10, rows // 20_000), 500), rng, day)
    path = out / f"proveedores_{stamp}.csv"
    proveedores.to_csv(path, index=False, encoding="utf-8")
    written[str(path)] = len(proveedores)
    files = max(1, -(-rows // rows_per_file))
    clean_names = clientes["nombre"].str.strip()
    done = 0
    for part in range(files):
        name = f"transacciones_{stamp}.csv" if files == 1 else f"transacciones_{stamp}_part{part + 1:03d}.csv"
        path = out / name
        in_file = min(rows_per_file, rows - done)
        with path.open("w", encoding="utf-8", newline="") as handle:
            for start in range(0, in_file, CHUNK_ROWS):
                chunk = _transacciones(
                    min(CHUNK_ROWS, in_file - start), rng, day, clean_names, proveedores, dirty_share
                )
                chunk.to_csv(handle, index=False, header=start == 0)
                done += len(chunk)
                if progress:
                    progress(f"transacciones: {done:,} / {rows:,} rows")
        written[str(path)] = in_file
    return written
