"""Object store port and its adapters (a local directory, S3) and partition paths."""
