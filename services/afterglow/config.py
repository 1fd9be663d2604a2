"""Typed settings read from the environment (README.md, "Configuration"), and our own knobs."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from afterglow.resources import project_root


def _default_data_dir() -> Path:
    return project_root() / "var"


def _default_clinics_file() -> Path:
    return project_root() / "deploy" / "clinics.toml"


class Settings(BaseSettings):
    """Every knob of the running service. Contract names have no prefix; ours start AFTERGLOW_."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # Empty means the local broker that `afterglow broker start` runs on `broker_port`.
    kafka_bootstrap_servers: str = Field(default="", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    twilio_account_sid: str | None = Field(default=None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(default=None, validation_alias="TWILIO_AUTH_TOKEN")
    twilio_messaging_service_sid: str | None = Field(
        default=None, validation_alias="TWILIO_MESSAGING_SERVICE_SID"
    )
    twilio_from_number: str | None = Field(default=None, validation_alias="TWILIO_FROM_NUMBER")
    public_url: str | None = Field(default=None, validation_alias="AFTERGLOW_PUBLIC_URL")
    clock_speed: float = Field(default=1.0, gt=0, validation_alias="AFTERGLOW_CLOCK_SPEED")
    # Simulated time shared by several processes (the demo): it was `clock_origin` at the
    # Unix time `clock_anchor`; without both, each process's simulated clock starts at its
    # own start.
    clock_origin: datetime | None = Field(default=None, validation_alias="AFTERGLOW_CLOCK_ORIGIN")
    clock_anchor: float | None = Field(default=None, validation_alias="AFTERGLOW_CLOCK_ANCHOR")

    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias="AFTERGLOW_DATA_DIR")
    clinics_file: Path = Field(
        default_factory=_default_clinics_file, validation_alias="AFTERGLOW_CLINICS_FILE"
    )
    # Seconds between clock ticks sent by the leader; 0 turns the timer off (tests send ticks).
    tick_interval: float = Field(default=1.0, ge=0, validation_alias="AFTERGLOW_TICK_INTERVAL")
    # Texts per second handed to the provider; 0 = no client-side limit. Twilio queues what
    # exceeds a sender's own rate (1/s for a long code), so the default leaves pacing to it:
    # a throttle here holds up the whole worker while it waits (see docs/operators.md).
    sms_rate: float = Field(default=0.0, ge=0, validation_alias="AFTERGLOW_SMS_RATE")
    operator_token: str | None = Field(default=None, validation_alias="AFTERGLOW_OPERATOR_TOKEN")
    topic_prefix: str = Field(default="", validation_alias="AFTERGLOW_TOPIC_PREFIX")
    topic_partitions: int = Field(default=4, ge=1, validation_alias="AFTERGLOW_TOPIC_PARTITIONS")
    topic_replication: int = Field(default=1, ge=1, validation_alias="AFTERGLOW_TOPIC_REPLICATION")
    app_id: str = Field(default="afterglow", validation_alias="AFTERGLOW_APP_ID")
    worker_web_host: str = Field(default="127.0.0.1", validation_alias="AFTERGLOW_WORKER_WEB_HOST")
    worker_web_port: int = Field(default=6066, validation_alias="AFTERGLOW_WORKER_WEB_PORT")
    # Where the web process reaches the worker's operator API (it asks whether an alert is
    # open before publishing a clinician's action). Empty means this machine's worker, on
    # `worker_web_host`/`worker_web_port` (docs/operators.md, "Alerts").
    worker_url: str = Field(default="", validation_alias="AFTERGLOW_WORKER_URL")
    # The projector's /metrics (docs/operators.md, "Monitor"), on `worker_web_host`; 0: none.
    projector_metrics_port: int = Field(
        default=0, ge=0, validation_alias="AFTERGLOW_PROJECTOR_METRICS_PORT"
    )
    web_host: str = Field(default="127.0.0.1", validation_alias="AFTERGLOW_WEB_HOST")
    web_port: int = Field(default=8000, validation_alias="AFTERGLOW_WEB_PORT")
    # The read model (docs/operators.md, "Read model"): SQLAlchemy URL; empty means the
    # SQLite file `<data_dir>/readmodel.sqlite3`.
    database_url: str = Field(default="", validation_alias="AFTERGLOW_DATABASE_URL")
    broker_port: int = Field(default=9092, validation_alias="AFTERGLOW_BROKER_PORT")
    broker_controller_port: int = Field(
        default=9093, validation_alias="AFTERGLOW_BROKER_CONTROLLER_PORT"
    )

    @model_validator(mode="after")
    def _default_bootstrap(self) -> Settings:
        if not self.kafka_bootstrap_servers:
            self.kafka_bootstrap_servers = f"127.0.0.1:{self.broker_port}"
        if not self.worker_url:
            self.worker_url = f"http://{_client_host(self.worker_web_host)}:{self.worker_web_port}"
        self.worker_url = self.worker_url.rstrip("/")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'readmodel.sqlite3'}"
        return self

    def topic(self, name: str) -> str:
        """The physical topic name for a catalog name (tests isolate themselves with a prefix)."""
        return f"{self.topic_prefix}{name}"


def _client_host(listen_host: str) -> str:
    """The address to connect to for a server listening on `listen_host`."""
    if listen_host in ("", "0.0.0.0"):
        return "127.0.0.1"  # listening everywhere: this machine answers on loopback
    if listen_host == "::":
        return "[::1]"
    if ":" in listen_host and not listen_host.startswith("["):
        return f"[{listen_host}]"  # an IPv6 literal needs brackets in a URL
    return listen_host


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
