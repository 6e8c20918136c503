"""Signals: machine-readable reservations, in both directions.

Out: members' choices published as standard signals on their pages (aipref
``Content-Usage``, TDMRep, ``X-Robots-Tag``). In: rights holders'
reservations captured with web content (the same headers, a site's TDMRep
file, its robots.txt ``Content-Usage`` lines, a CAWG training-mining
assertion in a C2PA manifest), honoured in builds.
"""
