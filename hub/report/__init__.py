"""Program reports: the LEAD evaluation measures, derived from the log, safe to share, so
that a program can show what it achieved without anyone reading a record about a person.

``source`` reads the log (as the auditor does) into ``records``; ``measures.derive`` builds
every table from them (pure): ``program`` (referrals, hand-offs, holds, intake),
``outcomes`` (status, contacts, services, new arrests) and ``sharing`` (consent, decisions,
notices), counted over the period of ``scope``. ``suppress`` hides small cells and their
complements (pure); ``render``, ``summary`` and ``charts`` shape the published tables for
people and tools.
"""

from hub.report.charts import charts
from hub.report.measures import derive
from hub.report.records import Period
from hub.report.render import markdown, to_html, to_json
from hub.report.source import read
from hub.report.suppress import suppress

__all__ = ["Period", "charts", "derive", "markdown", "read", "suppress", "to_html", "to_json"]
