"""Program reports: the LEAD evaluation measures, derived from the log, safe to share.

``source`` reads the log (as the auditor does) into ``records``; ``measures.derive`` builds
every table from them (pure): ``program`` (referrals, hand-offs, holds, intake),
``outcomes`` (status, contacts, services, new arrests) and ``sharing`` (consent, decisions,
notices), counted over the period of ``scope``. ``suppress`` hides small cells and their
complements (pure); ``render``, ``summary`` and ``charts`` shape the published tables for
people and tools.
"""
