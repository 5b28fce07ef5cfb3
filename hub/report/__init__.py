"""Program reports: the LEAD evaluation measures, derived from the log, safe to share.

``measures`` derives aggregate tables from decoded log records (pure), ``suppress``
hides small cells and their complements (pure), ``render`` and ``charts`` shape the
published tables for people and tools, and ``source`` reads the log as the auditor does.
"""
