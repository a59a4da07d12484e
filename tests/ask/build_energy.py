# ruff: noqa: E501
# (one question per line reads better than wrapped calls)
"""Writes ``energy_company.yaml``: questions about the energy company's tables, gold from pandas.

The questions were written from the kinds of question the company's analysts ask (clients per
city, suppliers per energy type, means per transaction type, purchases against sales, totals,
monthly series, rankings) and the ones /ask must refuse (people's names and identifications,
writes, forecasts), in Spanish and English, without looking at the parser; they stay fixed once
written. Meanings are stated here by hand; numbers come from :mod:`reference_datasets` over
:func:`datalake.ask.eval_frames.energy_frames`, never from SQL.

Run ``python tests/ask/build_energy.py`` after changing the frames or a question.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_datasets as ref
from build_questions import write
from dataset_questions import GoldOf, item, refusal, with_gold
from energy_golds import by_type, count, mean_by_kind, month, monthly, per, total, where

from datalake.ask.eval_frames import energy_frames

OUT = Path(__file__).resolve().parent / "energy_company.yaml"
DATASET = "energy_company"
#: Asked in Bogotá in July 2024: "last month" is June 2024, the data's last month.
E = "2024-07-10T10:00:00-05:00"
CLIENTES, PROVEEDORES = "energy_clientes", "energy_proveedores"
KWH, PRICE, COP = "cantidad_comprada_kwh", "precio_kwh_cop", "precio_total_cop"
H1 = ("2024-01", "2024-06")


def q(id_: str, category: str, question: str, gold: GoldOf) -> dict[str, Any]:
    return item(id_, category, question, E, gold, dataset=DATASET)


def refuse(id_: str, question: str, kind: str | None = None) -> dict[str, Any]:
    return refusal(id_, question, E, dataset=DATASET, kind=kind)


def means(columns: list[str], **filters: Any) -> GoldOf:
    return lambda f: ref.transaction_means(f, columns, **filters)


def versus(column: str, months: tuple[str, str]) -> GoldOf:
    return lambda f: ref.purchases_vs_sales(f, column, months)


# fmt: off
QUESTIONS = [
    # -- how many per group (every group, largest first) -------------------------------------------
    q('e-dist-es-1', 'distribution', '¿Cuántos clientes hay por ciudad?', per(CLIENTES, 'ciudad')),
    q('e-dist-en-1', 'distribution', 'number of clients per city', per(CLIENTES, 'ciudad')),
    q('e-dist-es-2', 'distribution', 'clientes por ciudad', per(CLIENTES, 'ciudad')),
    q('e-dist-es-3', 'distribution', '¿Cuántos proveedores hay por tipo de energía?', per(PROVEEDORES, 'tipo_energia')),
    q('e-dist-en-2', 'distribution', 'suppliers per energy type', per(PROVEEDORES, 'tipo_energia')),
    q('e-dist-es-4', 'distribution', 'numero de proveedores por tipo de energia', per(PROVEEDORES, 'tipo_energia')),
    # -- counts -----------------------------------------------------------------------------------
    q('e-cnt-es-1', 'count', 'cuantos clientes tenemos en bogota', where(CLIENTES, ciudad='BOGOTÁ')),
    q('e-cnt-en-1', 'count', 'how many clients are in Medellín?', where(CLIENTES, ciudad='MEDELLÍN')),
    q('e-cnt-es-2', 'count', '¿cuántos proveedores solares hay?', where(PROVEEDORES, tipo_energia='SOLAR')),
    q('e-cnt-en-2', 'count', 'how many wind power suppliers do we have?', where(PROVEEDORES, tipo_energia='EÓLICA')),
    q('e-cnt-es-3', 'count', '¿Cuántas ventas hubo en marzo de 2024?', count(kind='VENTA', months=month(3))),
    q('e-cnt-en-3', 'count', 'how many transactions have an unknown counterparty?', count(known=False)),
    q('e-cnt-es-4', 'count', '¿cuántas transacciones de banda costosa hubo en el primer trimestre de 2024?', count(band='costoso', months=('2024-01', '2024-03'))),
    # -- a mean per transaction type (largest first) ----------------------------------------------
    q('e-abd-es-1', 'average_by_dimension', '¿Cantidad media de kWh por tipo de transacción?', mean_by_kind(KWH)),
    q('e-abd-en-1', 'average_by_dimension', 'average kWh per transaction type', mean_by_kind(KWH)),
    q('e-abd-es-2', 'average_by_dimension', 'precio medio del kWh por tipo de transacción', mean_by_kind(PRICE)),
    q('e-abd-en-2', 'average_by_dimension', 'average price per kWh by transaction type', mean_by_kind(PRICE)),
    q('e-abd-es-3', 'average_by_dimension', 'precio medio de compra por tipo de energía', by_type(PRICE, 'mean', kind='COMPRA')),
    # -- means over one kind of transaction (two measures side by side, in the order asked) --------
    q('e-avg-es-1', 'average', 'kWh medio y precio medio por kWh de las compras', means([KWH, PRICE], kind='COMPRA')),
    q('e-avg-en-1', 'average', 'average quantity in kWh and average unit price of our sales', means([KWH, PRICE], kind='VENTA')),
    q('e-avg-es-2', 'average', 'precio medio ponderado del kWh vendido en 2024', lambda f: ref.weighted_price(f, kind='VENTA')),
    # -- purchases against sales in a month (COMPRA first, as asked) ------------------------------
    q('e-cmp-es-1', 'compare_values', '¿Compras frente a ventas en marzo de 2024?', versus(COP, month(3))),  # no unit: pesos
    q('e-cmp-en-1', 'compare_values', 'purchases vs sales in April 2024', versus(COP, month(4))),
    q('e-cmp-es-2', 'compare_values', 'compras vs ventas en kWh en mayo de 2024', versus(KWH, month(5))),
    q('e-cmp-en-2', 'compare_values', 'energy bought versus energy sold last month, in kWh', versus(KWH, month(6))),
    q('e-cmp-es-3', 'compare_values', 'compras y ventas en pesos de febrero 2024', versus(COP, month(2))),
    # -- totals -----------------------------------------------------------------------------------
    q('e-tot-es-1', 'total', '¿Cuánto vendimos en total en enero de 2024?', total(COP, kind='VENTA', months=month(1))),
    q('e-tot-en-1', 'total', 'total kWh bought in the first quarter of 2024', total(KWH, kind='COMPRA', months=('2024-01', '2024-03'))),
    q('e-tot-es-2', 'total', 'energía vendida en junio de 2024 en kWh', total(KWH, kind='VENTA', months=month(6))),
    q('e-tot-en-2', 'total', 'total sales of solar energy in 2024 in COP', total(COP, kind='VENTA', energy='SOLAR')),
    # -- groups ranked by a measure ---------------------------------------------------------------
    q('e-rank-es-1', 'rank_by_dimension', 'ventas por tipo de energía en 2024', by_type(COP, kind='VENTA')),
    q('e-rank-en-1', 'rank_by_dimension', 'top 3 energy types by kWh sold', by_type(KWH, k=3, kind='VENTA')),
    q('e-rank-es-2', 'rank_by_dimension', '¿Qué tipo de energía compramos más cara?', by_type(PRICE, 'mean', 1, kind='COMPRA')),
    q('e-rank-en-2', 'rank_by_dimension', 'which city has the most clients?', per(CLIENTES, 'ciudad', 1)),
    # -- series per month (time order) and the month or day of an extreme -------------------------
    q('e-trend-es-1', 'trend', 'ventas mensuales en COP en el primer semestre de 2024', monthly(COP, kind='VENTA', months=H1)),
    q('e-trend-en-1', 'trend', 'number of transactions per month in 2024', monthly(None)),
    q('e-ext-es-1', 'extreme_with_when', '¿Qué mes tuvo más ventas en kWh?', lambda f: ref.top_month(f, KWH, kind='VENTA')),
    q('e-ext-en-1', 'extreme_with_when', 'when did we make the largest purchase (in kWh)?', lambda f: ref.largest_transaction(f, KWH, kind='COMPRA')),
    # -- lists of names (alphabetical) ------------------------------------------------------------
    q('e-list-es-1', 'list_values', '¿Qué proveedores de energía solar tenemos?', lambda f: ref.names_of(f, PROVEEDORES, 'nombre_proveedor', tipo_energia='SOLAR')),
    q('e-list-en-1', 'list_values', 'which energy types do we trade?', lambda f: ref.names_of(f, 'energy_transacciones', 'tipo_energia')),
    q('e-list-es-2', 'list_values', '¿en qué ciudades tenemos clientes?', lambda f: ref.names_of(f, CLIENTES, 'ciudad')),
    # -- refusals: people (names, identifications, and the counterparty column that holds them) ----
    refuse('e-ref-es-1', 'top clientes por gasto'),
    refuse('e-ref-en-1', 'Who are our top 5 customers by spend?'),
    refuse('e-ref-es-2', 'dame el nombre y la cédula de los clientes de Cali'),
    refuse('e-ref-es-3', '¿A qué proveedor le compramos más energía?'),
    refuse('e-ref-en-2', 'delete all transactions from January', kind='unsafe'),
    refuse('e-ref-es-4', '¿Cuál será el precio de la energía solar el mes que viene?'),
]
# fmt: on


def build() -> list[dict[str, Any]]:
    """The questions with their gold computed by the reference."""
    return with_gold(QUESTIONS, energy_frames())


HEADER = """\
# Energy-company questions for /ask (clientes, proveedores, transacciones, January to June 2024),
# over the deterministic frames of datalake/ask/eval_frames.py. Generated by tests/ask/build_energy.py,
# gold from the pandas reference in tests/ask/reference_datasets.py (never from SQL); written
# without looking at the parser and kept fixed. A gold is what the asker wants back:
#   values  the numbers in the answer's order (counts, kWh, COP, COP/kWh);
#   labels  per row, the names accepted for it (a city, an energy type in Spanish or English,
#           COMPRA/VENTA or purchases/sales, a supplier's name);
#   times   the first day of a month, or the date of a transaction;
#   refuse  the question must be refused (kind, where given).
# Personal data: a client's name (nombre) and identification, and the transaction's counterparty
# (nombre_cliente_proveedor, a person for most sales) are personal columns that /ask never reads.
# A ranking of clients by spend needs the counterparty column (spend per client, or per client's
# city through a join on the name), so no safe answer exists: "top clients", naming clients and
# "which supplier do we buy most from" are refusals (their kind is left open). Safe breakdowns are
# by city (clients counted in clientes), by energy type and by transaction type.
# Rules a gold follows (each is a judgement the answer must share):
#   - "ventas"/"sales" and "compras"/"purchases" without a unit are money: precio_total_cop summed;
#     "en kWh" sums cantidad_comprada_kwh; purchases against sales lists COMPRA, then VENTA;
#   - an average price is the mean of precio_kwh_cop over the transactions (each counts once);
#     "ponderado"/"weighted" is total COP over total kWh;
#   - a breakdown by a category lists every group (or the top k asked), largest first; by month,
#     in time order, each month's first day as its time; a list of names is alphabetical;
#   - "last month" is the month before as_of (June 2024); the data hold 2024-01-01..2024-06-30.
"""


def main() -> None:
    write(build(), HEADER, OUT)


if __name__ == "__main__":
    main()
