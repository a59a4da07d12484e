"""Store sales: features, the retraining pipeline (champion/challenger in MLflow) and predictions."""

#: The registered model's name in MLflow and in the predictions history.
MODEL_NAME = "store-sales"
#: The MLflow experiments of the two pipelines.
ETL_EXPERIMENT = "store-sales-etl"
TRAIN_EXPERIMENT = "store-sales-train"
#: Days ahead the model predicts: lags and rolling windows never look closer than this.
HORIZON_DAYS = 42
#: The most rows one prediction call takes (the API's batch limit); here so the API can read it
#: without importing the model (scikit-learn).
MAX_PREDICT_ROWS = 10_000
