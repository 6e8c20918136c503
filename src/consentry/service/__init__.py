"""The member and staff web service (FastAPI): pages, JSON API, staff console.

A thin layer over the library: handlers parse, make one call (the service's
`member_actions`, `staff_actions` and `receipts`, or the library's
`consentry.decide` and the store) and render. See docs/service.md.
"""

from consentry.service.app import SESSION_COOKIE, create_app
from consentry.service.config import ServiceConfig
from consentry.service.staff import StaffRegistry, StaffRole

__all__ = ["SESSION_COOKIE", "ServiceConfig", "StaffRegistry", "StaffRole", "create_app"]
