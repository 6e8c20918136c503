"""The demo's third act: members' choices as the signals their public pages carry."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape

from consentry.demo.synth import SyntheticPlatform
from consentry.policy import Policy
from consentry.signals.headers import reservation_headers
from consentry.signals.reservation import reservation_for
from consentry.store.protocol import Store
from consentry.vocab import Choice

__all__ = ["run_signals_step"]


def _opted_out(store: Store, platform: SyntheticPlatform, at: datetime) -> str | None:
    """A member whose own latest choice for genai_training at `at` is a deny (None: nobody)."""
    for m in platform.members:
        latest = store.state(m.member_id, "genai_training", at)
        if latest is not None and latest.choice is Choice.DENY and m.closed_at is None:
            return m.member_id
    return None


def run_signals_step(
    store: Store, policy: Policy, platform: SyntheticPlatform, at: datetime, console: Console
) -> str | None:
    """Count the members whose pages carry reservation signals at `at`; show one opted-out member's headers."""
    reserving = sum(1 for m in platform.members if reservation_for(store, m.member_id, at, policy).any)
    total = len(platform.members)
    console.print(
        f"[bold]signals[/] as of {at:%Y-%m-%d}: {reserving:,} of {total:,} members' public pages carry "
        "a reservation (opted out, region, age, closed, …)"
    )
    member = _opted_out(store, platform, at)
    if member is None:
        return None
    console.print(f"  /in/{escape(member)} (turned generative-AI training off):")
    for name, value in reservation_headers(reservation_for(store, member, at, policy)):
        console.print(f"    {name}: {escape(value)}", highlight=False)
    return member
