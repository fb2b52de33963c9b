"""The access decision: what one reader may see of one catalogue entry, now. One pure function, :func:`decide`.

The rules, in order (the first that applies decides):

1. **The provider** (``entry.provider``) reads every item of its entry, unmasked, whatever its sharing type.
2. **The city** (an operator or an administrator, ``city=True``) reads every item of every entry, for
   supervision; items ranked above ``city_lift`` (default ``important``: core data, 核心数据) are masked.
3. A reader that is neither a department nor the city reads nothing.
4. **A source department** (一数一源: ``item.source``) reads the items it is the source of, unmasked, in any
   entry; what else it reads of the entry follows rules 5 to 7, and if those refuse it still reads its own.
5. **无条件共享 (unconditional)**: every department reads every item; items ranked above ``default_lift``
   (default ``general-2``) are masked. A grant in force for the entry (and the scenario, when one is given)
   lifts its granted items up to its ``lifts`` level, never lower than the default.
6. **有条件共享 (conditional)**: a department reads the entry only through a grant of its own for it that is
   in force now: approved, started (``starts_at`` ≤ now) and not ended (now < ``ends_at``; an approved grant
   is expired exactly at ``ends_at``). With a ``scenario``, only a grant for that very scenario counts: a grant
   for one scenario never opens another. Only the granted items are shown, the others are left out; granted
   items ranked above the grant's ``lifts`` (``default_lift`` when it has none) are masked. Of several grants
   that count, the one showing the most items, then lifting the highest, then ending last, is used.
   Without one the read is refused, naming the catalogue code, the provider and the grant to request.
7. **不予共享 (none)**: only the provider (and each source department, its own items) reads it; no grant
   opens it.

Masking is decided here and nowhere else: nothing a reader asks for lifts it, only a grant. An item whose
level the scale does not know is masked for everyone but its provider and its source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from cityos.datahub.models import Access, CatalogueEntry, DataItem, Grant, GrantState, LevelScale, SharingType
from cityos.datahub.workflow import DEFAULT_LIFT, in_force, instant, state_at

CITY_LIFT = "important"  # what operators and administrators see unmasked: everything but core data
GRANTS_PATH = "POST /datahub/grants"  # where a department requests a grant


def _rank(scale: LevelScale, name: str | None, fallback: float) -> float:
    level = scale.get(name) if name is not None else None
    return level.rank if level is not None else fallback


def _lift(scale: LevelScale, name: str) -> float:
    level = scale.get(name)
    if level is None:
        raise ValueError(f"the lift level {name!r} is not on the classification scale")
    return level.rank


def _shown(entry: CatalogueEntry, scale: LevelScale, lifts: dict[str, float], grant: str | None = None) -> Access:
    """Access to the items in ``lifts`` (item name -> the highest rank shown unmasked), in the entry's order."""
    items = [i for i in entry.items if i.name in lifts]
    masked = {i.name: i.kind for i in items if _rank(scale, i.level, math.inf) > lifts[i.name]}
    return Access(allowed=True, grant=grant, shown=tuple(i.name for i in items), masked=masked)


def _refused(refusal: str) -> Access:
    return Access(allowed=False, refusal=refusal)


def _best(
    entry: CatalogueEntry, department: str, grants: Sequence[Grant], scenario: str | None, now: datetime,
    scale: LevelScale, default: float,
) -> Grant | None:  # fmt: skip
    """The grant in force that shows the most, lifts the highest and ends last, of those that count."""
    counted = [
        g for g in grants
        if g.code == entry.code and g.department == department and in_force(g, now)
        and (scenario is None or g.scenario == scenario)
    ]  # fmt: skip
    size = len(entry.items)
    return max(
        counted,
        key=lambda g: (len(g.items) if g.items is not None else size, _rank(scale, g.lifts, default),
                       instant(g.ends_at), g.id),
        default=None,
    )  # fmt: skip


def _granted(entry: CatalogueEntry, grant: Grant) -> list[DataItem]:
    return [i for i in entry.items if grant.items is None or i.name in grant.items]


def _why_not(grant: Grant, scenario: str | None, now: datetime) -> str:
    state = state_at(grant, now)
    if scenario is not None and grant.scenario != scenario:
        return f"grant {grant.id} is for scenario {grant.scenario!r}, not {scenario!r}"
    if state == GrantState.EXPIRED:
        return f"grant {grant.id} expired at {grant.ends_at}"
    if state == GrantState.REQUESTED:
        return f"grant {grant.id} awaits the provider's decision"
    if state == GrantState.APPROVED:
        return f"grant {grant.id} starts at {grant.starts_at}"
    return f"grant {grant.id} was {state}"


def _no_grant(entry: CatalogueEntry, department: str, grants: Sequence[Grant], scenario: str | None,
              now: datetime) -> str:  # fmt: skip
    for_scenario = f" for scenario {scenario!r}" if scenario is not None else ""
    mine = [g for g in grants if g.code == entry.code and g.department == department]
    notes = "".join(f"; {_why_not(g, scenario, now)}" for g in mine[:3])
    return (
        f"catalogue entry {entry.code} ({entry.name}) is shared on condition (有条件共享): department "
        f"{department!r} holds no grant in force for it{for_scenario}{notes}. Request a grant of {entry.code}"
        f"{for_scenario} from {entry.provider!r}, naming the scenario, purpose, legal basis, items and period "
        f"({GRANTS_PATH})"
    )


def _not_shared(entry: CatalogueEntry) -> str:
    return (
        f"catalogue entry {entry.code} ({entry.name}) is not shared (不予共享): only its provider "
        f"{entry.provider!r} reads it, and no grant opens it"
    )


def _by_sharing(
    department: str, entry: CatalogueEntry, grants: Sequence[Grant], scenario: str | None, now: datetime,
    scale: LevelScale, default: float,
) -> Access:  # fmt: skip
    """Rules 5 to 7: what a department that is not the provider reads of the entry."""
    if entry.sharing == SharingType.NONE:
        return _refused(_not_shared(entry))
    grant = _best(entry, department, grants, scenario, now, scale, default)
    if entry.sharing == SharingType.UNCONDITIONAL:
        lifts = {i.name: default for i in entry.items}
        if grant is not None:
            lifted = max(default, _rank(scale, grant.lifts, default))
            lifts |= {i.name: lifted for i in _granted(entry, grant)}
        return _shown(entry, scale, lifts, grant.id if grant is not None else None)
    if grant is None:
        return _refused(_no_grant(entry, department, grants, scenario, now))
    lifted = _rank(scale, grant.lifts, default)
    return _shown(entry, scale, {i.name: lifted for i in _granted(entry, grant)}, grant.id)


def _with_own(access: Access, entry: CatalogueEntry, department: str, scale: LevelScale) -> Access:
    """Rule 4: a source department's own items added, unmasked."""
    own = {i.name for i in entry.items if i.source is not None and i.source == department}
    if not own:
        return access
    lifts = {name: math.inf for name in own} | {
        name: -math.inf if name in access.masked else math.inf for name in access.shown if name not in own
    }
    return _shown(entry, scale, lifts, access.grant)


def decide(
    reader_department: str | None,
    entry: CatalogueEntry,
    grants: Sequence[Grant],
    scenario: str | None,
    now: datetime,
    scale: LevelScale,
    *,
    city: bool = False,
    default_lift: str = DEFAULT_LIFT,
    city_lift: str = CITY_LIFT,
) -> Access:
    """What ``reader_department`` (None: no department) may read of ``entry`` at ``now``, reading for
    ``scenario`` (None: any of its grants counts), given its grants (those of other departments or entries
    are ignored). ``city``: the reader is an operator or an administrator. The rules are the module's."""
    if reader_department is not None and reader_department == entry.provider:
        return _shown(entry, scale, {i.name: math.inf for i in entry.items})
    if city:
        top = _lift(scale, city_lift)
        return _shown(entry, scale, {i.name: top for i in entry.items})
    if reader_department is None:
        return _refused(
            f"catalogue entry {entry.code} is read by departments, operators and administrators: "
            "use a department's token"
        )
    access = _by_sharing(reader_department, entry, grants, scenario, now, scale, _lift(scale, default_lift))
    return _with_own(access, entry, reader_department, scale)
