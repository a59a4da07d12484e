"""The energy company SAMPLE generator: accepted drops, split in parts, reproducible, a bit dirty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from datalake.sources.energy_company import sniff
from datalake.sources.energy_company_sample import generate_drops


def test_generated_drops_are_accepted_split_and_reproducible(tmp_path: Path) -> None:
    day = dt.date(2024, 6, 3)
    written = generate_drops(tmp_path / "a", 5_000, day, rows_per_file=2_000)
    again = generate_drops(tmp_path / "b", 5_000, day, rows_per_file=2_000)
    names = sorted(Path(p).name for p in written)
    assert names == [
        "clientes_20240603.csv",
        "proveedores_20240603.csv",
        "transacciones_20240603_part001.csv",
        "transacciones_20240603_part002.csv",
        "transacciones_20240603_part003.csv",
    ]
    entities = {}
    for path, rows in written.items():
        data = Path(path).read_bytes()
        assert data == (tmp_path / "b" / Path(path).name).read_bytes()  # same seed, same bytes
        sniffed = sniff(data, 1_048_576)
        entities[sniffed.entity] = entities.get(sniffed.entity, 0) + rows
        assert len(sniffed.text.splitlines()) == rows + 1
    assert entities == {"clientes": 50, "proveedores": 10, "transacciones": 5_000}
    assert sniff((tmp_path / "a" / "clientes_20240603.csv").read_bytes(), 1_048_576).encoding == "latin-1"
    assert set(again.values()) == set(written.values())
    tx = pd.concat(pd.read_csv(p, dtype=str) for p in written if "transacciones" in p)
    dirty = tx["cantidad_comprada_kwh"].isin(["n/d"]) | tx["nombre_cliente_proveedor"].str.contains(
        "No Registrada"
    )
    assert 0.002 < dirty.mean() < 0.02  # a small share of the 2 % dirty rows are of these kinds
    prices = pd.to_numeric(tx["precio_kwh_cop"])
    assert prices.between(50, 2_000).all()
