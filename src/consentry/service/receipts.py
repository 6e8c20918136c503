"""The service's consent receipts: built by `consentry.receipts` (docs/receipts.md)."""

from __future__ import annotations

from consentry.receipts import Controller, Effect, ReceiptFormat, build_receipt, iso27560_receipt, kantara_receipt

__all__ = ["Controller", "Effect", "ReceiptFormat", "build_receipt", "iso27560_receipt", "kantara_receipt"]
