"""Signals: machine-readable reservations, in both directions.

Out: members' choices published as standard signals on their pages (aipref
``Content-Usage``, TDMRep, ``X-Robots-Tag``). In: rights holders'
reservations captured with web content (the same headers, a site's TDMRep
file, its robots.txt ``Content-Usage`` lines, a CAWG training-mining
assertion in a C2PA manifest), honoured in builds.

Out, module by module:

- `consentry.signals.reservation` — a member's reservation now, from the same
  decision machinery as the builds (`consentry.decide`);
- `consentry.signals.headers` — the reservation as `Content-Usage` (IETF AI
  preferences, serialised with http-sf), `tdm-reservation`/`tdm-policy` (W3C
  TDMRep) and `X-Robots-Tag`;
- `consentry.signals.site` — the site-wide `robots.txt` and `/.well-known/tdmrep.json`;
- `consentry.signals.asgi.ReservationHeaders`, `consentry.signals.wsgi.ReservationHeaders`
  — middleware adding a member's headers to the pages of a web tier;
- `consentry.signals.client.ServiceSignals` — asks a Consentry service for a
  member's headers (`GET /v1/signals/members/{member_id}`), for that middleware.

docs/signals.md describes both directions.
"""
