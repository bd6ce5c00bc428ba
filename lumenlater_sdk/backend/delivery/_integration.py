"""Running the delivery worker inside the backend process."""

from __future__ import annotations

from typing import Any

from ..db import Database
from ._metrics import prometheus_observer
from ._worker import DeliveryWorker

__all__ = ["worker_for"]


def worker_for(db: Database, config: Any, metrics: Any | None = None) -> DeliveryWorker | None:
    """The worker a backend with this ``BackendConfig`` runs, or ``None`` if it runs none.

    ``config.delivery`` is passed through (``schedule=``, ``timeout=``, ...); the
    signing secrets are unsealed with ``config.secret_key``; ``config.webhook_proxy``
    and ``config.livemode`` become the worker's ``proxy`` and ``livemode`` (unless
    ``config.delivery`` sets them). With *metrics* (the
    backend's ``BackendMetrics``) every attempt is counted on its
    ``webhook_deliveries`` counter. Call ``start()`` on startup and ``close()`` on shutdown.
    """
    if not getattr(config, "run_delivery", True) or config.secret_key is None:
        return None
    options: dict[str, Any] = dict(getattr(config, "delivery", {}) or {})
    options.setdefault("proxy", getattr(config, "webhook_proxy", None))
    options.setdefault("livemode", bool(getattr(config, "livemode", False)))
    if metrics is not None and "observer" not in options:
        counter = getattr(metrics, "webhook_deliveries", None)
        if counter is not None:
            options["observer"] = prometheus_observer(
                counter, getattr(metrics, "webhook_delivery_seconds", None)
            )
    return DeliveryWorker(db, secret_key=config.secret_key, **options)
