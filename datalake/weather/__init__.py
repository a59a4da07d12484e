"""Weather: one definition of the hourly weather frame, the locations and the national series.

The source (Open-Meteo and the shared observation file), the Glue job and the forecaster's
covariates all use these functions, so a column means the same thing everywhere.
"""
