"""Service-level endpoints: health."""

from __future__ import annotations

from fastapi import APIRouter

from consentry.service.api_models import Health

router = APIRouter(tags=["service"])


@router.get("/v1/health", summary="Liveness (the trivial endpoint benchmarks compare against)", response_model=Health)
def health() -> dict[str, str]:
    """Always {"status": "ok"} while the process serves requests."""
    return {"status": "ok"}
