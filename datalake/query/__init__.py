"""Query port and its engines (DuckDB locally, Athena on AWS) and the named queries."""
