"""All runtime settings in one place, read from environment variables (and an optional `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; each field maps to the environment variable named in its alias."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///./fcr.db", alias="DATABASE_URL")
    timezone: str = Field("Europe/London", alias="FCR_TIMEZONE")
    max_upload_bytes: int = Field(50 * 1024 * 1024, alias="FCR_MAX_UPLOAD_BYTES", gt=0)
    max_batch_rows: int = Field(200_000, alias="FCR_MAX_BATCH_ROWS", gt=0)
    max_page_size: int = Field(50_000, alias="FCR_MAX_PAGE_SIZE", gt=0)
    default_page_size: int = Field(10_000, alias="FCR_DEFAULT_PAGE_SIZE", gt=0)
    host: str = Field("127.0.0.1", alias="FCR_HOST")
    port: int = Field(8000, alias="FCR_PORT")
    log_level: str = Field("info", alias="FCR_LOG_LEVEL")
    job_concurrency: int = Field(1, alias="FCR_JOB_CONCURRENCY", ge=1, le=32)
    job_stale_seconds: float = Field(30.0, alias="FCR_JOB_STALE_SECONDS", gt=0)
    job_max_attempts: int = Field(2, alias="FCR_JOB_MAX_ATTEMPTS", ge=1)
    run_jobs: bool = Field(True, alias="FCR_RUN_JOBS")
    auth_cache_seconds: float = Field(5.0, alias="FCR_AUTH_CACHE_SECONDS", ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {v!r}") from exc
        return v

    @property
    def tz(self) -> ZoneInfo:
        """The control room's local timezone."""
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
