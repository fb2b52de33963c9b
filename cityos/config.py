"""Settings for every cityos process, read from ``CITYOS_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import limits
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityos.core.addresses import Network, parse_networks
from cityos.core.roles import ROLES, parse_roles

SEAL_SECRET_MIN = 16  # characters of CITYOS_SEAL_SECRET: the offices' seal keys are encrypted under it


class Settings(BaseSettings):
    """One place for configuration. Every field maps to ``CITYOS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CITYOS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="Where the SQLite file and other local state live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: a SQLite file under data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    bus_url: str = Field("memory://", description="Event bus: memory:// (one process) or nats://host:4222.")
    roles: str = Field(
        "auto",
        description="The roles `cityos serve` takes on beside the API, comma-separated: ingest (MQTT telemetry), "
        "vitals (the vital signs engine), cases (cases from warnings, time-limit timers), notify (subscription "
        "notifications), plans (the plans' main indicators' figures), onestop (case ratings as 好差评, the 差评 "
        "follow-ups' reminders and escalation, policy matching runs); "
        "none for the API alone; auto: all with memory://, all but notify "
        "with nats:// "
        "(`cityos worker` notifies). One process of a deployment runs each role at a time.",
    )
    demo_mode: bool = Field(False, description="Relaxes secret checks; set by `cityos demo`.")
    default_tenant: str = Field("default", description="Tenant used when no NGSILD-Tenant header is sent.")
    max_limit: int = Field(1000, description="Largest page a query may ask for; beyond it: TooManyResults.")
    default_limit: int = Field(20, description="Page size when a query gives no limit (the NGSI-LD default).")
    max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1, description="Largest request body of any route, refused before it is parsed (413)."
    )
    max_json_depth: int = Field(
        64,
        ge=1,
        le=200,  # orjson writes at most about 255 levels: a document taken in must come out again, wrapped
        description="Deepest nesting of arrays and objects in a JSON body, for every route (deeper: 400).",
    )
    rate_limit_login: str = Field(
        "20/minute", description="Logins (POST /auth/login) per client address, whatever the account (past it: 429)."
    )
    rate_limit_public: str = Field(
        "30/minute",
        description="Open311 reports and follow-link ratings and confirmations per client address (past it: 429).",
    )
    rate_limit_opendata: str = Field(
        "600/minute",
        description="Calls of the open data portal's public CKAN Action API per client address (past it: 429): "
        "each records read is audited, so the public may not grow the audit chain without bound.",
    )
    rate_limit_token: str = Field(
        "60/minute", description="The same per follow token, from any address (past it: 429)."
    )
    rate_limit_app: str = Field(
        "600/minute",
        description="Open311 reports per app (its api_key, checked first), from any address: all the app's users "
        "share it, so it bounds the app as a whole (past it: 429).",
    )
    context_fetch_timeout: float = Field(5.0, description="Seconds to wait for a remote JSON-LD @context.")
    context_cache_seconds: int = Field(3600, description="How long a fetched remote @context is kept.")
    context_allow_private: bool = Field(
        False, description="Fetch remote @contexts from loopback and private addresses too (off: refused, 504)."
    )
    notify_allowed_networks: str = Field(
        "",
        description="Private or local networks (CIDR, comma-separated, e.g. 10.20.0.0/16) notifications may go "
        "to; subscriptions to other loopback, private, link-local or reserved addresses are refused (400), not sent.",
    )
    temporal_max_instances: int = Field(
        10_000, ge=1, description="Instances per attribute in one temporal answer; past it: 206 and Content-Range."
    )
    mqtt_url: str | None = Field(
        None, description="MQTT broker of the devices (mqtt://host:1883 or mqtts://…): telemetry in, commands out."
    )
    mqtt_client_id: str = Field(
        "cityos-ingest", description="Client id of the telemetry consumer; its broker session survives restarts."
    )
    mqtt_sessions: int = Field(
        1,
        ge=1,
        le=64,
        description="MQTT sessions the telemetry is shared over (a shared subscription $share/<client id>/…): up "
        "to this many ingest processes consume at once, each in session <client id>-<n>; 1: one session, one "
        "ingest process at a time.",
    )
    ingest_transport: Literal["mqtt", "nats"] = Field(
        "mqtt",
        description="How the ingest role takes device telemetry: mqtt (an MQTT session at CITYOS_MQTT_URL) or nats "
        "(a JetStream pull consumer at CITYOS_INGEST_NATS_URL, NATS speaking MQTT to the devices).",
    )
    ingest_nats_url: str | None = Field(
        None, description="NATS server of the nats ingest transport (nats://host:4222); default CITYOS_BUS_URL's."
    )
    ingest_nats_stream: str = Field(
        "CITYOS_TELEMETRY", description="JetStream stream of the devices' MQTT messages (made if it does not exist)."
    )
    ingest_nats_consumer: str = Field(
        "cityos-ingest", description="Durable pull consumer every ingest process of the deployment shares."
    )
    ingest_nats_ack_wait: float = Field(
        60.0, gt=0, description="Seconds before a message taken and not acknowledged is delivered again."
    )
    iot_batch_size: int = Field(2000, ge=1, description="Most telemetry messages written in one transaction.")
    iot_batch_wait_ms: int = Field(20, ge=0, description="Longest wait (ms) for a telemetry batch to fill.")
    iot_max_clock_skew: int = Field(
        300, ge=0, description="Seconds an observation time may lie after its receipt; later: dead letter."
    )
    datahub_levels: Path | None = Field(
        None,
        description="A YAML file of the data classification levels, lowest first ({name, zh, en} each); "
        "default: GB/T 43697's general 1-4, important, core (cityos/datahub/levels.yaml).",
    )
    model_cache: Path | None = Field(
        None,
        description="Where trained models are kept between starts: the shipped case classifier, under a digest of "
        "its training data, taxonomy, settings and library versions, so that a start loads it instead of training "
        "it again. Unset: data_dir/models.",
    )
    audit_seal_key: Path | None = Field(
        None,
        description="PEM file of the Ed25519 private key that seals the audit chain. Unset: a key generated on "
        "first use into data_dir/audit-seal.pem (mode 0600; the log says where).",
    )
    audit_retired_keys: Path | None = Field(
        None,
        description="A directory of the public keys (PEM) of seal keys no longer in use, so that verify checks the "
        "seals they made; `cityos audit rotate-key` puts the old key's there. Unset: data_dir/audit-keys-retired.",
    )
    audit_subject_secret: str | None = Field(
        None,
        description="Secret of the keyed hashes (keyed BLAKE2b-256) the audit log keeps of the persons' ID numbers and "
        "enterprises' credit codes a read touched. Unset: derived from the seal key (a new seal key then "
        "starts new hashes: set this to keep who used my data across key changes).",
    )
    audit_seal_every: int = Field(10_000, ge=1, description="Seal the audit chain at least every this many records.")
    audit_seal_seconds: int = Field(
        60,
        ge=1,
        description="Seal the audit chain when this many seconds passed since the last seal (checked at "
        "each append, and every few seconds by each API process).",
    )
    city_tenant: str | None = Field(
        None,
        description="The tenant that holds the city-level entities the district return (数据属地返还) reads and "
        "where return grants are made. Unset: CITYOS_DEFAULT_TENANT.",
    )
    return_department: str = Field(
        "big-data",
        description="The department (the big-data centre) whose tokens may make and end return grants, beside "
        "administrators.",
    )
    return_every_seconds: int = Field(
        0,
        ge=0,
        description="Re-run every standing return grant incrementally this often (one process of a deployment "
        "does it, by lease); 0: only when asked (POST /datahub/returns/{id}/runs, `cityos return run`).",
    )
    return_overlap_seconds: float = Field(
        1.0,
        ge=0,
        le=3600,
        description="An incremental return run re-reads the records modified this long before its watermark, so "
        "that a write committed after the last run read is not missed; those already returned are not written again.",
    )
    quality_every: int = Field(
        86_400,
        ge=0,
        description="Re-check every dataset with quality rules when its latest run is this many seconds old "
        "(each API process looks every minute at most); 0 turns the scheduled runs off.",
    )
    feed_quality_lease_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="A feed run's pending quality run is held by the process making it for this long, renewed "
        "every third of it while that process lives; one left by a process that stopped is taken up by a live API "
        "process once this has passed (each looks at start and every half of it).",
    )
    demo_raw_days: int = Field(
        2,
        ge=0,
        description="`cityos demo`: days of raw attribute history kept for the types its devices drive "
        "(set at every start of the demo).",
    )
    demo_hourly_days: int = Field(
        90, ge=0, description="`cityos demo`: days hourly rollups of that history are kept (then daily, forever)."
    )
    demo_warm_days: float = Field(
        14.0,
        ge=0,
        description="`cityos demo`: days of simulated history its first start loads (indicator values on the "
        "5-minute grid, every sensor's last hours), so that forecasts and baselines work from the first minute; "
        "a later start tops up the gap; 0: start cold.",
    )
    demo_compact_minutes: float = Field(
        10.0, ge=0, description="`cityos demo`: compact the history this often (as `cityos history compact`); 0: never."
    )
    opendata_reports_per_hour: int = Field(
        10,
        ge=0,
        description="Error reports (纠错) on open datasets' values per client address and hour, counted in each API "
        "process (past it: 429); 0 takes none.",
    )
    opendata_policy: Path | None = Field(
        None,
        description="The de-identification policy (YAML) every open dataset's release passes before its records are "
        "served; default: the one shipped (cityos/opendata/data/deidentify.yaml).",
    )
    opendata_recheck_seconds: float = Field(
        3600.0,
        ge=0,
        description="How often an open dataset's release is checked again through the de-identification gate while "
        "it is served within one catalogue version (live records change): the records are read again and a new "
        "release is stored when they or the result changed; 0: only when the catalogue entry changes.",
    )
    onestop_demo_login: bool = Field(
        False,
        description="The one-stop portal's demo identity provider (POST /onestop/login/demo: a demo person's ID "
        "number or an enterprise's credit code and the fixed demo code) outside demo mode too; a stand-in for the "
        "city's real identity provider, never for production.",
    )
    onestop_login_minutes: int = Field(
        60, ge=1, le=240, description="How long a one-stop portal login (a citizen's or enterprise's token) lasts."
    )
    onestop_upload_max_bytes: int = Field(
        5 * 1024 * 1024,
        ge=1,
        description="Largest file an applicant uploads as a material of a one-stop application (PDF, JPEG or PNG; "
        "past it: 413). Keep it under CITYOS_MAX_BODY_BYTES.",
    )
    seal_secret: str | None = Field(
        None,
        description="Secret that encrypts the offices' seal keys (电子印章: each issuing department's Ed25519 key, "
        "kept in the database so that every API node signs with it) with AES-256-GCM. Required outside demo mode "
        "before the first e-certificate is issued; at least 16 characters (e.g. `openssl rand -hex 32`); keep it (a "
        "new secret cannot open the keys made under the old).",
    )
    credential_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="The public address of the one-stop API (no trailing slash): e-certificates name their status "
        "lists, JSON Schemas and JSON-LD context under it, so set it before issuing the first one.",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("data_dir", "model_cache")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @property
    def ingest_nats(self) -> str | None:
        """The NATS server of the nats ingest transport: CITYOS_INGEST_NATS_URL, else the bus's if it is NATS."""
        if self.ingest_nats_url:
            return self.ingest_nats_url
        return None if self.bus_in_process else self.bus_url

    @property
    def ingest_shared(self) -> bool:
        """Whether every process given the ingest role consumes at once (the broker spreads the devices)."""
        return self.mqtt_sessions > 1 or self.ingest_transport == "nats"

    @property
    def bus_in_process(self) -> bool:
        """Whether the bus is the in-process one (events never leave this process)."""
        return self.bus_url.startswith("memory:")

    @field_validator(
        "rate_limit_login", "rate_limit_public", "rate_limit_opendata", "rate_limit_token", "rate_limit_app"
    )
    @classmethod
    def _rate(cls, v: str) -> str:
        try:
            limits.parse(v)  # a mistyped rate is refused at start
        except ValueError:
            raise ValueError(
                f"{v!r} is not a rate: write it as N/second, N/minute, N/hour or 'N per M minutes'"
            ) from None
        return v

    @field_validator("seal_secret")
    @classmethod
    def _seal_secret(cls, v: str | None) -> str | None:
        # the seal keys are only as safe as this secret: a short one is refused at start, not found by a guess later
        if v is not None and len(v) < SEAL_SECRET_MIN:
            raise ValueError(
                f"CITYOS_SEAL_SECRET has {len(v)} characters: use at least {SEAL_SECRET_MIN} "
                "(e.g. the output of `openssl rand -hex 32`)"
            )
        return v

    @field_validator("notify_allowed_networks")
    @classmethod
    def _networks(cls, v: str) -> str:
        parse_networks(v)  # a mistyped network is refused at start
        return v

    @property
    def notify_networks(self) -> tuple[Network, ...]:
        """The private or local networks notifications may go to."""
        return parse_networks(self.notify_allowed_networks)

    @model_validator(mode="after")
    def _share_group(self) -> Settings:
        if self.mqtt_sessions > 1 and any(c in self.mqtt_client_id for c in "/+#"):  # it names the share group
            raise ValueError(
                f"CITYOS_MQTT_CLIENT_ID {self.mqtt_client_id!r} names the shared subscription's group with "
                "CITYOS_MQTT_SESSIONS > 1: give one without '/', '+' or '#'"
            )
        return self

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: str) -> str:
        if v.strip() != "auto":
            parse_roles(v)  # names an unknown role: refused at start, not when the role is missed
        return v

    @property
    def serve_roles(self) -> tuple[str, ...]:
        """The roles `cityos serve` may take (``roles``, with auto decided by the bus)."""
        if self.roles.strip() == "auto":
            return ROLES if self.bus_in_process else tuple(r for r in ROLES if r != "notify")
        return parse_roles(self.roles)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cityos.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
