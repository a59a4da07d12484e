"""The sales prediction function: closed days, bad rows named by field, the model round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sales_fixtures import synthetic_sales, synthetic_stores

from datalake.sales.dataset import build_feature_dataset
from datalake.sales.metrics import rmspe
from datalake.sales.model import SalesModel
from datalake.sales.predict import LoadedModel, RowError, predict_sales
from datalake.sales.retrain import fit_challenger, score_on_test


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    dataset = build_feature_dataset(synthetic_sales(stores=3, days=300), synthetic_stores(3))
    model = fit_challenger(dataset, {"max_iter": 40, "max_leaf_nodes": 15, "learning_rate": 0.2})
    return LoadedModel(model, "7", "champion")


def _row(**overrides: object) -> dict[str, object]:
    return {
        "store_id": 2,
        "date": "2023-10-30",
        "promo": 1,
        "state_holiday": "0",
        "school_holiday": 0,
    } | overrides


def test_predictions_carry_the_version_and_alias_and_closed_days_predict_zero(loaded: LoadedModel) -> None:
    answer = predict_sales([_row(), _row(open=False), _row(promo=0)], loaded)
    assert answer["model_version"] == "7" and answer["model_alias"] == "champion"
    open_promo, closed, open_no_promo = answer["predictions"]
    assert closed == {"store_id": 2, "date": "2023-10-30", "predicted_sales": 0.0, "closed": True}
    assert not open_promo["closed"] and open_promo["predicted_sales"] > 0
    # The synthetic promo lifts sales by 25 %: the model has learnt a lift.
    assert open_promo["predicted_sales"] > 1.1 * open_no_promo["predicted_sales"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (_row(store_id=99), "rows[0].store_id"),
        (_row(store_id="x"), "rows[0].store_id"),
        (_row(date="2023-02-30"), "rows[0].date"),
        (_row(date="yesterday"), "rows[0].date"),
        (_row(state_holiday="z"), "rows[0].state_holiday"),
        (_row(promo="maybe"), "rows[0].promo"),
        ({"store_id": 1, "date": "2023-10-30", "promo": 1, "state_holiday": "0"}, "rows[0].school_holiday"),
    ],
)
def test_a_bad_row_is_a_value_error_naming_its_field(loaded: LoadedModel, row: dict, field: str) -> None:
    with pytest.raises(ValueError, match=r"^" + field.replace("[", r"\[").replace("]", r"\]")) as raised:
        predict_sales([row], loaded)
    assert isinstance(raised.value, RowError) and raised.value.field == field


def test_the_saved_model_predicts_what_the_fitted_one_did(loaded: LoadedModel, tmp_path: Path) -> None:
    dataset = build_feature_dataset(synthetic_sales(stores=3, days=300), synthetic_stores(3))
    score, predicted, test = score_on_test(loaded.model, dataset)
    reloaded = SalesModel.load(loaded.model.save(tmp_path))
    assert np.allclose(reloaded.predict_rows(test), predicted)
    assert score == pytest.approx(rmspe(test["sales"], predicted))
    assert score < 0.1  # 5 % noise around a weekly pattern and a promo lift the features carry


def test_a_long_lived_process_keeps_only_the_newest_loaded_versions(
    loaded: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each promotion moves the alias; the versions loaded before it are let go (a bounded cache)."""
    from types import SimpleNamespace

    from datalake.sales import predict

    versions = iter(range(1, 7))
    loads: list[str] = []

    class Registry:  # the one registry call load_alias makes
        def get_model_version_by_alias(self, _name: str, _alias: str) -> SimpleNamespace:
            return SimpleNamespace(version=next(versions))

    def load_registered(_client: object, version: SimpleNamespace, _scratch: Path) -> SalesModel:
        loads.append(str(version.version))
        return loaded.model

    monkeypatch.setattr(predict, "_cache", {})
    monkeypatch.setattr(predict.tracking, "client", lambda _settings: Registry())
    monkeypatch.setattr(predict.tracking, "tracking_uri", lambda _settings: "sqlite:///test.db")
    monkeypatch.setattr("datalake.sales.retrain.load_registered", load_registered)
    served = [predict.load_alias("champion").version for _ in range(6)]
    assert served == loads == ["1", "2", "3", "4", "5", "6"]
    assert [version for _, version in predict._cache] == ["4", "5", "6"]
