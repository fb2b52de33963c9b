"""The one-stop figures the city digital transformation plans track (主要指标): submissions made online and at a
counter (网办率), 一件事 bundle submissions, e-certificates issued, and the items a person can do wholly online.
Read by the plan indicators (cityos.plans) through this package's face."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cityos.onestop import figures_store as store
from cityos.onestop.items import items
from cityos.runtime import Runtime

ONLINE_HANDLING = ("online", "both")  # a guide that lets the whole matter be done online (全程网办)


@dataclass(frozen=True)
class ServiceFigures:
    """Counts over [since, until). ``online``: submitted by the applicant's own login (the portal); ``on_site``:
    by a service counter for the applicant; submissions made before the channel was kept count in neither.
    ``items`` and ``online_items`` are the catalogue as it is now."""

    since: datetime
    until: datetime
    submissions: int
    online: int
    on_site: int
    bundle_submissions: int
    certificates_issued: int
    items: int
    online_items: int

    @property
    def online_rate(self) -> float | None:
        """网办率: online / (online + on-site); None when neither was made."""
        known = self.online + self.on_site
        return self.online / known if known else None

    @property
    def online_item_share(self) -> float | None:
        """全程网办事项比例: the items whose guide lets the whole matter be done online / every item."""
        return self.online_items / self.items if self.items else None


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def service_figures(rt: Runtime, tenant: str, *, since: datetime, until: datetime | None = None) -> ServiceFigures:
    """The one-stop figures of the submissions made and certificates issued from ``since`` until ``until``
    (None: now)."""
    until = until or datetime.now(UTC)
    with rt.db.connect() as conn:
        counts = store.submission_counts(conn, tenant, _ms(since), _ms(until))
        issued = store.credentials_issued(conn, tenant, _ms(since), _ms(until))
    catalogue = items(rt, tenant=tenant)
    by_channel: dict[str | None, int] = {}
    for channel, _bundled, n in counts:
        by_channel[channel] = by_channel.get(channel, 0) + n
    return ServiceFigures(
        since=since,
        until=until,
        submissions=sum(n for _c, _b, n in counts),
        online=by_channel.get("online", 0),
        on_site=by_channel.get("on-site", 0),
        bundle_submissions=sum(n for _c, bundled, n in counts if bundled),
        certificates_issued=issued,
        items=len(catalogue),
        online_items=sum(1 for it in catalogue if it.handling in ONLINE_HANDLING),
    )
