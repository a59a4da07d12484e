"""The lake's public HTTP API: a FastAPI app served by uvicorn locally and by Lambda through Mangum.

- :mod:`api.main` -- :func:`~api.main.create_app`, the app factory.
- :mod:`api.routers` -- one router per resource (health, ask, forecast, predictions).
- :mod:`api.deps` -- the dependencies routes declare (``Annotated`` aliases).
- :mod:`api.services` -- what routes call: the database pool, forecasts, predictions, charts.
- :mod:`api.lambda_handler` -- the Lambda entry point (API Gateway REST and HTTP APIs).
"""

from __future__ import annotations

__version__ = "0.1.0"
