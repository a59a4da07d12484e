"""Catalog port and its adapters: the local catalog, the Glue Data Catalog, the local crawler."""
