"""The hub on HTTP: the agency API, the pages for people, and metrics (served inside the worker)."""
