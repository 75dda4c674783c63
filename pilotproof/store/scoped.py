"""A store bound to one person's scope, as the app hands it to pages: every reading and writing
function gets the scope, so a page cannot forget it, and a function not listed here (one added
later without a scope) is not reachable through it at all."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .access import Scope
    from .database import Store

#: Functions that take `scope=`: reads cut to the scope, writes checked against it.
SCOPED = frozenset(
    {
        "observations", "pilots", "thresholds", "events", "uploads", "plans", "decisions",
        "results_seen", "upload_detail", "undo_upload", "add_event", "delete_event",
        "save_readiness", "set_threshold", "add_metric", "set_plan", "log_decision",
        "mark_results_seen", "mappings", "save_mapping", "ingest", "users", "set_user",
        "remove_user", "audit_log", "validate", "preview", "pilot_currencies", "company_currencies",
        "set_company_currency", "set_rates", "observation_fingerprints", "cached_results",
        "save_results",
    }
)  # fmt: skip
#: Functions with nothing to scope: the metric catalog, versions, and the conversion rates the
#: user typed (numbers, no company's data).
SHARED = frozenset({"catalog", "data_version", "schema_version", "path", "rates"})


class ScopedStore:
    """`store` as `scope` sees it (`Store.scoped`)."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self._store = store
        self.scope = scope

    def __getattr__(self, name: str) -> Any:
        if name in SCOPED:
            return functools.partial(getattr(self._store, name), scope=self.scope)
        if name in SHARED:
            return getattr(self._store, name)
        raise AttributeError(f"{name} is not available to a scoped store")
