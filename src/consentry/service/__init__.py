"""The member and staff web service (FastAPI): pages, JSON API, staff console.

A thin layer over the library: handlers parse, make one call (the service's
`member_actions`, `staff_actions` and `receipts`, or the library's
`consentry.decide` and the store) and render. See docs/service.md.

Names are imported on first use, so that `consentry staff …` (which needs the staff
registry) does not load FastAPI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "SESSION_COOKIE": "consentry.service.app",
    "create_app": "consentry.service.app",
    "ServiceConfig": "consentry.service.config",
    "StaffRegistry": "consentry.service.staff",
    "StaffRole": "consentry.service.staff",
}

__all__ = ["SESSION_COOKIE", "ServiceConfig", "StaffRegistry", "StaffRole", "create_app"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'consentry.service' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from consentry.service.app import SESSION_COOKIE, create_app
    from consentry.service.config import ServiceConfig
    from consentry.service.staff import StaffRegistry, StaffRole
