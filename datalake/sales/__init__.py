"""Store sales: features, the retraining pipeline (champion/challenger in MLflow) and predictions."""

#: The registered model's name in MLflow and in the predictions history.
MODEL_NAME = "store-sales"
#: The MLflow registry aliases of the served model and of the newest trained one.
CHAMPION, CHALLENGER = "champion", "challenger"
#: The MLflow experiments of the two pipelines.
ETL_EXPERIMENT = "store-sales-etl"
TRAIN_EXPERIMENT = "store-sales-train"
#: Days ahead the model predicts: lags and rolling windows never look closer than this.
HORIZON_DAYS = 42
#: The most rows one prediction call takes (the API's batch limit); here so the API can read it
#: without importing the model (scikit-learn).
MAX_PREDICT_ROWS = 10_000
#: Where the versioned features dataset lives in the lake (the SageMaker training channel on AWS).
FEATURES_PREFIX = "features/store_sales"


def promotion_decision(
    challenger_rmspe: float, champion_version: object | None, champion_rmspe: float | None
) -> tuple[bool, str]:
    """Whether the challenger becomes champion, and why: the first model does; a later one only with
    a lower test RMSPE than the champion's on the same window.

    One rule for ``datalake run sales-retrain`` and the AWS state machine's promote step.
    """
    if champion_version is None or champion_rmspe is None:
        return True, "first model: no champion yet"
    if challenger_rmspe < champion_rmspe:
        return True, f"challenger RMSPE {challenger_rmspe:.4f} < champion's {champion_rmspe:.4f}"
    return False, f"champion kept: challenger RMSPE {challenger_rmspe:.4f} >= champion's {champion_rmspe:.4f}"
