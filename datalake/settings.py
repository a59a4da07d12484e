"""One settings object for the whole lake; every knob has an environment variable."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: /ask's default text-to-SQL model (see ``Settings.ask_model_id``).
DEFAULT_ASK_MODEL_ID = "Qwen/Qwen2.5-Coder-32B-Instruct"


class Settings(BaseSettings):
    """Lake settings, read from the environment (and a `.env` file when present).

    Field names are the environment variable names, case-insensitively
    (``lake_root`` <- ``LAKE_ROOT``).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    lake_runtime: Literal["local", "aws"] = Field(
        "local", description="Which adapters serve the ports: local files or AWS services."
    )
    lake_root: Path = Field(
        Path(".lake"), description="Local runtime: the directory that stands in for the buckets."
    )
    lake_bucket: str = Field("datalake-dev-lake", description="Bucket with raw/ and processed/.")
    landing_bucket: str = Field("datalake-dev-landing", description="Bucket for CSV drops.")
    artifacts_bucket: str = Field("datalake-dev-artifacts", description="Code and models.")
    raw_database: str = Field("datalake_raw", description="Glue database of the raw zone.")
    processed_database: str = Field("datalake_processed", description="Glue database of the processed zone.")
    energy_raw_database: str = Field(
        "energy_raw_db", description="Glue database of the energy company's raw CSV drops."
    )
    energy_processed_database: str = Field(
        "energy_processed_db", description="Glue database of the energy company's processed tables."
    )
    aws_region: str = Field("eu-west-1", description="AWS region of every client.")
    aws_endpoint_url: str | None = Field(
        None, description="Override for every AWS endpoint (moto, seaweedfs, LocalStack)."
    )
    athena_workgroup: str = Field("primary", description="Athena workgroup for lake queries.")
    athena_output: str | None = Field(
        None, description="s3:// prefix for Athena results; the workgroup's when unset."
    )
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset means the embedded server under the lake root."
    )
    database_secret_arn: str | None = Field(
        None, description="AWS runtime: Secrets Manager secret with the RDS credentials."
    )
    db_connect_timeout_s: int = Field(5, ge=1, description="Give up connecting after this.")
    db_statement_timeout_ms: int = Field(30_000, ge=100, description="Per-statement limit.")
    reader_role: str = Field("datalake_reader", description="Read-only PostgreSQL role.")
    spark_master: str = Field("local[*]", description="Spark master for local job runs.")
    spark_driver_memory: str = Field(
        "4g", description="Heap of the local Spark driver (local mode runs every task in it)."
    )
    spark_offheap_memory: str = Field(
        "2g",
        pattern=r"^(0|[1-9][0-9]*[kmgKMG])$",
        description="Local Spark: memory for sorts, shuffles and aggregations outside the driver's heap "
        "(0: inside the heap). Allocated as tasks need it, freed when they end.",
    )
    spark_quick_jit: bool = Field(
        False,
        description="Local Spark: compile with the JVM's quick compiler only (-XX:TieredStopAtLevel=1). "
        "Short runs on small data (the demo turns it on) finish sooner; long runs are slower.",
    )
    spark_class_archive: bool = Field(
        True,
        description="Local Spark: map Spark's classes from the class-data archive `datalake doctor` builds "
        "once per Java and PySpark (each new JVM starts sooner); false: load them from the jars.",
    )
    # -- where Spark jobs get their session (issue 15) --
    spark_runtime: Literal["auto", "local", "glue"] = Field(
        "auto",
        description=(
            "Spark session of job runs: local (SPARK_MASTER, loopback driver), glue (the session the Glue "
            "job launcher configured, on its workers), auto (glue when AWS Glue started the process)."
        ),
    )
    ree_base_url: str = Field("https://apidatos.ree.es", description="Red Eléctrica REData API base URL.")
    ree_sample: bool = Field(
        False, description="Extractors use the labelled SAMPLE generator (offline) instead of the API."
    )
    ree_glue_job: str = Field(
        "datalake-ree-to-processed",
        description="Glue job of the ree source (glue_jobs/to_processed.py --source ree).",
    )
    entsoe_glue_job: str = Field(
        "datalake-entsoe-to-processed",
        description="Glue job of the entsoe source (glue_jobs/to_processed.py --source entsoe).",
    )
    energy_company_glue_job: str = Field(
        "datalake-energy-company-to-processed",
        description="Glue job of the energy company (glue_jobs/to_processed.py --source energy_company).",
    )
    tmdb_glue_job: str = Field(
        "datalake-tmdb-to-processed",
        description="Glue job of the tmdb source (glue_jobs/to_processed.py --source tmdb).",
    )
    owid_glue_job: str = Field(
        "datalake-owid-to-processed",
        description="Glue job of the owid source (glue_jobs/to_processed.py --source owid).",
    )
    store_sales_glue_job: str = Field(
        "datalake-store-sales-to-processed",
        description="Glue job of the store_sales source (glue_jobs/to_processed.py --source store_sales).",
    )
    owid_energy_url: str = Field(
        "https://raw.githubusercontent.com/owid/energy-data/master/owid-energy-data.csv",
        description="Where OWID publishes its energy dataset (`datalake ingest owid` fetches it).",
    )
    owid_codebook_url: str = Field(
        "https://raw.githubusercontent.com/owid/energy-data/master/owid-energy-codebook.csv",
        description="Where OWID publishes the dataset's codebook.",
    )
    owid_timeout_s: float = Field(60.0, gt=0, description="Seconds each OWID download may take.")
    # -- TMDB extraction (issue 17) ---------------------------------------------------------
    tmdb_base_url: str = Field("https://api.themoviedb.org/3", description="TMDB v3 API root.")
    tmdb_export_base_url: str = Field(
        "https://files.tmdb.org/p/exports",
        description="Where TMDB's daily ID exports (movie_ids_MM_DD_YYYY.json.gz) are; "
        "no credentials go there.",
    )
    tmdb_read_access_token: SecretStr | None = Field(
        None, description="TMDB read-access token (sent as Authorization: Bearer); wins over TMDB_API_KEY."
    )
    tmdb_api_key: SecretStr | None = Field(
        None, description="TMDB v3 API key (sent as the api_key parameter)."
    )
    tmdb_secret_arn: str | None = Field(
        None,
        description="Secrets Manager secret with the TMDB credentials (JSON read_access_token and/or "
        "api_key, or the bare token); wins over TMDB_READ_ACCESS_TOKEN and TMDB_API_KEY.",
    )
    tmdb_rate_limit_per_s: float = Field(
        20.0,
        gt=0,
        le=40,
        description="Most TMDB requests per second (TMDB documents about 40-50; stay under).",
    )
    tmdb_top_cast: int = Field(
        5, ge=0, le=50, description="Top-billed cast members kept per movie (by order)."
    )
    tmdb_chunk_size: int = Field(
        500, ge=1, le=20_000, description="Movies per raw file and per backfill checkpoint step."
    )
    tmdb_sample: bool = Field(
        False, description="TMDB extractors use the labelled SAMPLE TMDB (offline) instead of the API."
    )
    # -- EIA Open Data API v2 (issue 19) -----------------------------------------------------
    eia_base_url: str = Field("https://api.eia.gov/v2", description="EIA Open Data API v2 root.")
    eia_api_key: SecretStr | None = Field(
        None, description="EIA API key (sent as the api_key query parameter; never logged or stored)."
    )
    eia_secret_arn: str | None = Field(
        None,
        description="Secrets Manager secret with the EIA API key (JSON api_key, or the bare key); "
        "wins over EIA_API_KEY.",
    )
    eia_series: str = Field(
        "petroleum/pri/spt:RWTC,petroleum/pri/spt:RBRTE,natural-gas/pri/fut:RNGWHHD",
        description="Daily series to ingest, comma-separated route:series (WTI Cushing and Brent spot, "
        "USD per barrel; Henry Hub spot, USD per MMBtu by default).",
    )
    eia_daily_lookback_days: int = Field(
        14, ge=1, le=366, description="Days the daily EIA run fetches again, so late revisions win."
    )
    eia_sample: bool = Field(
        False, description="EIA extractors use the labelled SAMPLE generator (offline) instead of the API."
    )
    eia_glue_job: str = Field(
        "datalake-eia-to-processed",
        description="Glue job of the eia source (glue_jobs/to_processed.py --source eia).",
    )
    # -- Open-Meteo weather (issue 23) -------------------------------------------------------
    open_meteo_forecast_url: str = Field(
        "https://api.open-meteo.com/v1/forecast", description="Open-Meteo forecast API endpoint (no key)."
    )
    open_meteo_archive_url: str = Field(
        "https://archive-api.open-meteo.com/v1/archive",
        description="Open-Meteo archive (historical weather) API endpoint (no key).",
    )
    weather_forecast_days: int = Field(
        7, ge=1, le=16, description="Days ahead the daily weather run asks Open-Meteo's forecast for."
    )
    weather_sample: bool = Field(
        False,
        description="Weather extractors use the labelled SAMPLE Open-Meteo (offline) instead of the API.",
    )
    weather_glue_job: str = Field(
        "datalake-weather-to-processed",
        description="Glue job of the weather source (glue_jobs/to_processed.py --source weather).",
    )
    csv_max_line_bytes: int = Field(
        1_048_576, ge=1_024, description="CSV drops with a longer line (in bytes) are rejected."
    )
    # -- landing limits (issue 14, finding 10) ---------------------------------------------
    landing_max_bytes: int = Field(
        268_435_456,
        ge=1,
        description="CSV drops larger than this (bytes) are rejected as too_large before being read. "
        "256 MiB: the landing streams drops, but the Glue job and the DuckDB twin read each raw "
        "file whole (~5x its size in memory), which is what failed in a 1,536 MB Lambda at ~300 MB.",
    )
    # -- processed zone publishing (issue 16) ----------------------------------------------
    processed_rows_per_file: int = Field(
        2_000_000,
        ge=1,
        description="Rows per Parquet file the jobs aim at when writing a processed table (each "
        "file a contiguous range of partition, time and key; a partition gets at least one file).",
    )
    processed_retention_hours: float = Field(
        24.0,
        ge=0,
        description="Superseded processed run folders (and folders of runs that never published) "
        "are deleted this long after they stopped being referenced, so queries still reading the "
        "old locations finish.",
    )
    sagemaker_role_arn: str | None = Field(
        None, description="IAM role SageMaker assumes to run training jobs and serve endpoints."
    )
    sagemaker_training_instance_type: str = Field(
        "ml.m5.xlarge", description="Instance type of SageMaker training jobs."
    )
    sagemaker_inference_instance_type: str = Field(
        "ml.m5.large", description="Instance type of the forecast endpoint."
    )
    sagemaker_subnet_ids: str | None = Field(
        None,
        description="Comma-separated private subnets the forecast endpoint's model runs in (the network "
        "stack's PrivateSubnetIds output); needed when DATABASE_SECRET_ARN is set: RDS is private.",
    )
    sagemaker_security_group_ids: str | None = Field(
        None, description="Comma-separated security groups of that model (the AppSecurityGroupId output)."
    )
    sagemaker_framework_version: str = Field(
        "2.6", description="PyTorch version of the SageMaker framework images (training and inference)."
    )
    sagemaker_py_version: str = Field("py312", description="Python version tag of those images.")
    sagemaker_training_image: str | None = Field(
        None, description="Training image URI; unset resolves the PyTorch image from the framework version."
    )
    sagemaker_inference_image: str | None = Field(
        None, description="Inference image URI; unset resolves the PyTorch image from the framework version."
    )
    model_package_group: str = Field(
        "datalake-demand-forecaster", description="SageMaker Model Registry group of the forecaster."
    )
    forecast_endpoint: str | None = Field(
        None,
        description="SageMaker endpoint that serves the champion forecaster; when set on the aws runtime "
        "/forecast calls it, and `launch.py deploy` uses it (unset: datalake-demand-forecast).",
    )
    movie_success_endpoint: str | None = Field(
        None,
        description="SageMaker endpoint that serves the movie-success champion; when set on the aws runtime "
        "/predict calls it, and `launch.py deploy --model movie-success` deploys to it.",
    )
    sales_endpoint: str | None = Field(
        None,
        description="SageMaker endpoint that serves the store-sales champion; when set on the aws runtime "
        "/predict/sales calls it, and `launch.py deploy --model store-sales` deploys the MLflow champion "
        "to it.",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking server (on AWS the SageMaker managed MLflow tracking server's ARN or "
        "URL); unset: a SQLite store with artifacts under LAKE_ROOT/mlflow.",
    )
    mlflow_track_training: bool = Field(
        True,
        description="Also log the forecaster's and the movie classifier's training runs (params, metrics) "
        "to MLflow, beside their own registry, so every model's experiments are in one place.",
    )
    api_host: str = Field("127.0.0.1", description="`datalake serve`: the interface uvicorn listens on.")
    api_port: int = Field(8000, ge=1, le=65_535, description="`datalake serve`: the TCP port.")
    api_workers: int = Field(1, ge=1, le=64, description="`datalake serve`: uvicorn worker processes.")
    api_root_path: str = Field(
        "",
        description="Base path the API is served under: the API Gateway stage (/prod) or a proxy prefix.",
    )
    api_key: SecretStr | None = Field(
        None, description="When set, the data endpoints need it in the X-API-Key header."
    )
    api_key_secret_arn: str | None = Field(
        None,
        description="Secrets Manager secret with the API key (plain or JSON api_key); wins over API_KEY.",
    )
    api_rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests per minute per client on the data endpoints; 0 turns the limit off."
    )
    # -- who a client is, and where the rate limit is counted (issue 14, finding 7) --
    forwarded_allow_ips: str = Field(
        "",
        description="`datalake serve`: addresses or networks (comma-separated, e.g. the load balancer's "
        "subnet CIDRs) whose X-Forwarded-For is trusted to name the client; empty trusts no proxy "
        "(proxy headers off), so a client cannot pick its rate-limit bucket with the header.",
    )
    api_rate_limit_backend: Literal["memory", "postgres"] = Field(
        "memory",
        description="Where API_RATE_LIMIT_PER_MINUTE is counted: memory (per worker process) or postgres "
        "(one bucket per client shared by every worker and host, in the owner database; falls back "
        "to memory, with a warning, while the database cannot be reached).",
    )

    @field_validator("metrics_namespace")
    @classmethod
    def _not_an_aws_namespace(cls, value: str) -> str:
        if value.startswith("AWS/"):
            raise ValueError("AWS/ namespaces are CloudWatch's own; custom metrics go elsewhere")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue  # uvicorn's "trust every peer": only behind a network that admits nothing else
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from None
        return ",".join(entries)

    api_max_body_bytes: int = Field(16_384, ge=256, description="Request bodies larger than this get a 413.")
    api_predict_max_body_bytes: int = Field(
        1_048_576, ge=256, description="The body limit of POST /predict (a list of up to 1,000 films)."
    )
    api_db_pool_size: int = Field(4, ge=1, le=100, description="Most PostgreSQL connections per API process.")
    api_forecast_backend: Literal["auto", "local", "endpoint"] = Field(
        "auto",
        description="Where /forecast runs: local (the champion in-process), endpoint (FORECAST_ENDPOINT), "
        "auto (the endpoint on the aws runtime when FORECAST_ENDPOINT is set, else local).",
    )
    api_predict_backend: Literal["auto", "local", "endpoint"] = Field(
        "auto",
        description="Where /predict runs: local (the movie-success champion in-process), endpoint "
        "(MOVIE_SUCCESS_ENDPOINT), auto (the endpoint on the aws runtime when MOVIE_SUCCESS_ENDPOINT "
        "is set, else local).",
    )
    api_sales_backend: Literal["auto", "local", "endpoint"] = Field(
        "auto",
        description="Where /predict/sales runs: local (the store-sales champion in-process, from MLflow), "
        "endpoint (SALES_ENDPOINT), auto (the endpoint on the aws runtime when SALES_ENDPOINT is set, "
        "else local).",
    )
    api_refresh_s: float = Field(
        30.0, ge=0, description="How often the API re-checks the champion and the newest data hour."
    )
    ask_engine: Literal["warehouse", "lake"] = Field(
        "warehouse", description="Where /ask runs its SQL: the warehouse (as READER_ROLE) or the lake engine."
    )
    ask_max_rows: int = Field(1_000, ge=1, le=100_000, description="/ask: LIMIT of every guarded query.")
    ask_statement_timeout_ms: int = Field(10_000, ge=100, description="/ask: per-query statement timeout.")
    ask_max_question_chars: int = Field(500, ge=10, description="/ask: longer questions are refused.")
    # -- /ask's text-to-SQL model (Hugging Face Inference) --
    ask_backend: Literal["parser", "hf", "parser+hf"] = Field(
        "parser",
        description="/ask: who writes the SQL. parser (the rule parser alone), hf (the model of ASK_MODEL_ID "
        "for every question), parser+hf (the model only for questions the parser does not understand, "
        "never for ones it refused on purpose). The model's SQL passes the same guard.",
    )
    # Qwen2.5-Coder-32B-Instruct: a code model tuned on SQL among other languages, one of the strongest
    # open models on the Spider and BIRD text-to-SQL benchmarks in its report; it answers with the
    # query (no reasoning preamble to strip), Hugging Face's Inference Providers serve it for chat
    # completion, and its open weights (Apache-2.0) run on a TGI or vLLM server behind ASK_HF_BASE_URL.
    ask_model_id: str = Field(
        DEFAULT_ASK_MODEL_ID,
        description="/ask: the Hugging Face model (chat completion) that writes SQL when ASK_BACKEND uses "
        "it; by default a code model strong at text-to-SQL, served by Hugging Face's Inference Providers.",
    )
    ask_hf_base_url: str | None = Field(
        None,
        description="/ask: an OpenAI-compatible server (a dedicated Inference Endpoint, TGI, vLLM) whose "
        "/v1/chat/completions answers for the model; unset: Hugging Face's Inference Providers router.",
    )
    ask_hf_timeout_s: float = Field(
        30.0, gt=0, le=300, description="/ask: give up on the model after this long (a 503)."
    )
    ask_hf_max_tokens: int = Field(
        768, ge=64, le=8_192, description="/ask: the most tokens the model may write for one query."
    )
    hf_token: SecretStr | None = Field(
        None,
        description="Hugging Face access token (Inference Providers); needed unless ASK_HF_BASE_URL is set.",
    )
    hf_token_secret_arn: str | None = Field(
        None,
        description="Secrets Manager secret with the Hugging Face token (the bare token, or JSON hf_token "
        "or token); wins over HF_TOKEN.",
    )
    reader_password: SecretStr | None = Field(
        None, description="Password of READER_ROLE; unset for trust/peer auth (the embedded server)."
    )
    # The reader's secret on AWS (issue 14, finding 14): the warehouse stack generates it.
    reader_secret_arn: str | None = Field(
        None,
        description="AWS runtime: Secrets Manager secret with READER_ROLE's password (JSON username, "
        "password); the sync sets the role's password from it and the API logs in with it. Wins over "
        "READER_PASSWORD.",
    )
    # -- schedules and alerts (issue 19) --
    metrics_namespace: str = Field(
        "datalake/dev",
        pattern=r"^[A-Za-z0-9._/#:-]{1,255}$",
        description="CloudWatch namespace of the run metrics a processing run publishes on the aws runtime "
        "(its source's data age, its seconds): the stack's <project>/<env>, which its IAM grant names.",
    )
    alert_webhook_url: SecretStr | None = Field(
        None,
        description="`datalake run daily`: an incoming webhook (Slack, Teams) that gets a JSON alert "
        '({"text": ...}) when a source fails. Its path is a credential: only its host is ever logged.',
    )
    alert_webhook_timeout_s: float = Field(
        10.0, gt=0, le=60, description="`datalake run daily`: give up posting the alert after this long."
    )
    # real time (issue 21)
    realtime_stream_prefix: str = Field(
        "datalake-dev",
        pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="Kinesis stream names are <prefix>-transactions and <prefix>-prices.",
    )
    portfolios_table: str = Field(
        "datalake-dev-portfolios", description="DynamoDB table of the users' portfolios (aws runtime)."
    )
    notifications_topic_arn: str | None = Field(
        None, description="SNS topic of the users' personal notifications (aws runtime)."
    )
    dead_letter_queue_url: str | None = Field(
        None, description="SQS queue that keeps the stream's poison records with their reason (aws runtime)."
    )
    signal_endpoint: str | None = Field(
        None, description="SageMaker endpoint name of the buy/sell model the trade advisor invokes."
    )
    weather_locations: str | None = Field(
        None,
        description="Weather locations and their weights, as a JSON list of "
        '{"name", "latitude", "longitude", "weight"} objects; empty: Madrid, Barcelona, Valencia, '
        "Seville and Bilbao weighted by population.",
    )

    @field_validator("weather_locations")
    @classmethod
    def _weather_locations_parse(cls, value: str | None) -> str | None:
        if value:
            from datalake.weather.locations import parse_locations  # a leaf module; avoids a cycle

            parse_locations(value)
        return value or None

    trm_url: str = Field(
        "https://www.datos.gov.co/resource/32sa-8pi3.json",
        description="The official USD/COP rate (TRM) on datos.gov.co's Socrata API.",
    )
    realtime_local_shards: int = Field(
        1,
        ge=1,
        le=64,
        description="Local runtime: shards per stream log (a record goes to one by a hash of its partition "
        "key). "
        "Fixed once a stream has records: changing it would move users between shards.",
    )
    realtime_batch_size: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Records the stream processor takes per batch (Kinesis: up to 10,000).",
    )
    realtime_webhook_url: SecretStr | None = Field(
        None,
        description="Local runtime: a webhook that also gets each notification as JSON; its failures are "
        "recorded beside the notification, never raised. Only its host is ever logged.",
    )
    realtime_webhook_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Local runtime: give up posting a notification to the webhook after this.",
    )
    # -- the USD/COP price collector and the realtime lake source (issue 21, rt-prices): below the
    # real-time block; TRM_URL is in it --
    price_provider: Literal["datos.gov.co"] = Field(
        "datos.gov.co", description="The price collector: which provider TRM_URL is (its answer's shape)."
    )
    trm_app_token: SecretStr | None = Field(
        None, description="The price collector: an optional Socrata app token (X-App-Token header)."
    )
    trm_timeout_s: float = Field(10.0, gt=0, le=60, description="The price collector: seconds per request.")
    trm_max_retries: int = Field(
        3, ge=0, le=10, description="The price collector: retries of a 429, 5xx or transport error."
    )
    trm_stale_after_hours: float = Field(
        12.0,
        ge=0,
        description="The price collector: alert when the newest rate's validity ended (midnight in Bogotá "
        "after its last valid day) more than this many hours ago.",
    )
    alerts_topic_arn: str | None = Field(
        None,
        description="AWS runtime: the alerts SNS topic (the monitoring stack's AlertsTopic) the price "
        "collector's stale-price alert is published to; locally ALERT_WEBHOOK_URL gets it.",
    )
    realtime_glue_job: str = Field(
        "datalake-realtime-to-processed",
        description="Glue job of the realtime source: raw stream events -> processed portfolio_events.",
    )
    # -- `datalake deploy check` (issue 15) --
    deploy_checkov: Path = Field(
        Path(".venv-checkov/bin/checkov"),
        description="`datalake deploy check`: the checkov executable (its own virtual environment, made by "
        "`make .venv-checkov/bin/checkov`); a relative path is taken from the repository root.",
    )
    # -- the trade advisor (issue 21, rt-model): belongs just below the `# real time (issue 21)` block --
    advisor_min_interval_minutes: float = Field(
        60.0,
        gt=0,
        le=10_080,
        description="Trade advisor: at most one buy/sell notification per user per this many minutes "
        "(at most a week).",
    )
    advisor_notify_hold: bool = Field(
        False, description="Trade advisor: also notify holders when the signal is hold (off: only buy/sell)."
    )

    @field_validator(
        "aws_endpoint_url",
        "database_url",
        "athena_output",
        "tmdb_secret_arn",
        "eia_secret_arn",
        "hf_token_secret_arn",
        "ask_hf_base_url",
        "sagemaker_role_arn",
        "sagemaker_training_image",
        "sagemaker_inference_image",
        "alert_webhook_url",
        "mlflow_tracking_uri",
        "notifications_topic_arn",
        "dead_letter_queue_url",
        "signal_endpoint",
        "realtime_webhook_url",
        "alerts_topic_arn",
        "trm_app_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ask_model_id", mode="before")
    @classmethod
    def _blank_is_the_default_model(cls, value: object) -> object:
        # An empty ASK_MODEL_ID= line (older .env files) means the default model, not a model named "".
        return (
            DEFAULT_ASK_MODEL_ID if value is None or (isinstance(value, str) and not value.strip()) else value
        )

    @property
    def pg_data_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.lake_root / "_pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
