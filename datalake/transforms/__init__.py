"""Pure PySpark transforms: DataFrame in, DataFrame out; no I/O, so they test on local[1]."""
