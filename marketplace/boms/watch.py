"""Keeping BOMs current as the market moves: lines re-matched when new listings appear, watched
BOMs' owners told (inbox and webhook) when a listing change makes a line unfillable or much
dearer, and suggested alternates approved per line.

The catalogue's listing writes enqueue `bom_parts_changed_task` through the outbox (by task name,
in the change's own transaction), so this runs within seconds of the change itself, not nightly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.boms.health import PRICE_JUMP, bom_alternates, line_health
from marketplace.boms.matching import match_bom_lines, mpn_key
from marketplace.boms.models import Bom, BomItem, MatchStatus
from marketplace.boms.parametric import wanted_from
from marketplace.catalogue.models import Part
from marketplace.exceptions import BomLineInvalid
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify, webhooks_enqueue

REMATCH_WINDOW = timedelta(days=180)  # BOMs touched in the last half year are kept current
REMATCH_BATCH = 5000


@dataclass
class _Line:
    manufacturer: str
    mpn: str
    value: str
    footprint: str
    description: str
    designators: list[str]
    quantity: Decimal
    alternates: list = field(default_factory=list)


@transaction.atomic
def bom_watch(*, bom: Bom, watched: bool, quantity: int | None = None) -> Bom:
    bom = Bom.objects.select_for_update().get(pk=bom.pk)
    bom.watched = watched
    fields = ["watched", "updated_at"]
    if quantity is not None:
        if quantity < 1:
            raise BomLineInvalid({"quantity": ["The batch to watch for is at least 1."]})
        bom.watch_quantity = quantity
        fields.append("watch_quantity")
    bom.save(update_fields=fields)
    return bom


@transaction.atomic
def bom_alternate_approve(*, bom: Bom, line: int, part: Part, quantity: int = 1) -> BomItem:
    """The buyer approves a suggested alternate for a line: it becomes the line's part and the
    approval is kept on the line (`approved_alternate`)."""
    bom = Bom.objects.select_for_update().get(pk=bom.pk)
    item = BomItem.objects.filter(bom=bom, line=line).first()
    if item is None:
        raise BomLineInvalid({"line": [f"The BOM has no line {line}."]})
    offered = {a["part"] for s in bom_alternates(bom=bom, quantity=quantity, lines=[line]) for a in s["alternates"]}
    if part.pk not in offered:
        raise BomLineInvalid({"part": [f"{part} is not a suggested alternate for line {line} at a batch of {quantity}."]})
    was = f"{item.manufacturer} {item.mpn}".strip() or item.value or f"line {line}"
    item.part, item.approved_alternate, item.confirmed = part, part, True
    item.status, item.confidence = MatchStatus.EXACT, Decimal("1")
    item.reason = f"approved alternate for {was}"[:300]
    item.save(update_fields=["part", "approved_alternate", "confirmed", "status", "confidence", "reason"])
    bom.save(update_fields=["updated_at"])
    return item


def _relevant(items: list[BomItem], parts: list[tuple[str, dict]]) -> list[BomItem]:
    """Unmatched lines the changed parts could match: the same MPN key (or a key one is a
    packaging variant of), or a passive's value and package."""
    keys = {k for k, _ in parts}
    params = {(q, p.get(q), str(p.get("package", ""))) for _, p in parts for q in ("capacitance", "resistance", "inductance")
              if p.get(q) is not None}
    out = []
    for item in items:
        for text in (item.mpn, item.value):
            k = mpn_key(text)
            if k and any(k.startswith(c) or c.startswith(k) for c in keys if min(len(k), len(c)) >= 4):
                out.append(item)
                break
        else:
            w = wanted_from(designators=item.designator_list, value=item.value, footprint=item.footprint,
                            description=item.description)
            if w is not None and w.key() in params:
                out.append(item)
    return out


@transaction.atomic
def bom_items_rematch(*, part_ids: list[int]) -> int:
    """Re-match the unmatched, unconfirmed lines of recent BOMs that these (new or newly listed)
    parts could match. Returns how many lines now have a part."""
    parts = list(Part.objects.filter(pk__in=part_ids).values_list("mpn_normalized", "parameter_values"))
    if not parts:
        return 0
    since = timezone.now() - REMATCH_WINDOW
    items = list(BomItem.objects.filter(status=MatchStatus.NONE, confirmed=False, dnp=False, not_a_part="",
                                        bom__updated_at__gte=since).order_by("pk")[:REMATCH_BATCH])
    items = _relevant(items, parts)
    if not items:
        return 0
    list(Bom.objects.select_for_update().filter(pk__in={i.bom_id for i in items}).order_by("pk").values_list("pk"))
    matches = match_bom_lines([_Line(i.manufacturer, i.mpn, i.value, i.footprint, i.description, i.designator_list,
                                     i.quantity, [tuple(a) for a in i.alternates]) for i in items])
    changed = []
    for item, m in zip(items, matches):
        if m.part_id is None and m.status != MatchStatus.AMBIGUOUS:
            continue
        item.status, item.part_id, item.confidence = m.status, m.part_id, m.confidence
        item.reason, item.candidates = f"{m.reason} (matched when it was listed)"[:300], [c.as_dict() for c in m.candidates]
        changed.append(item)
    BomItem.objects.bulk_update(changed, ["status", "part", "confidence", "reason", "candidates"])
    return sum(1 for i in changed if i.part_id)


@transaction.atomic
def bom_alerts_for_parts(*, part_ids: list[int]) -> int:
    """Tell the owners of watched BOMs whose lines use these parts when a line can no longer be
    filled at the watched batch, or its price rose by a quarter or more. Once a day per line and
    cause (the webhook's event key and the inbox text say the same)."""
    items = list(BomItem.objects.filter(part_id__in=part_ids, bom__watched=True, dnp=False, not_a_part="")
                 .select_related("bom").order_by("bom_id", "line"))
    if not items:
        return 0
    by_batch: dict[int, list[BomItem]] = {}
    for item in items:
        by_batch.setdefault(item.bom.watch_quantity, []).append(item)
    lifecycles = dict(Part.objects.filter(pk__in=part_ids).values_list("pk", "lifecycle"))
    today = timezone.localdate().isoformat()  # the platform's day (Asia/Shanghai), as `__date` reads it
    sent = 0
    for batch, group in by_batch.items():
        health = line_health([{"line": i.pk, "part_id": i.part_id, "quantity": i.quantity,
                               "lifecycle": lifecycles.get(i.part_id, "")} for i in group], batch, _currency())
        for item, h in zip(group, health):
            causes = []
            if h["vendors_able_to_fill"] == 0:
                causes.append(("unfillable", f"no vendor can fill {h['need']:,}",
                               f" (the market holds {h['stock']:,})"))
            if h["price_move"] is not None and h["price_move"] >= PRICE_JUMP:
                causes.append(("dearer", "its price rose", f" {h['price_move']:.0%}"))
            for cause, head, figures in causes:
                key = f"bom-line-risk:{item.bom_id}:{item.line}:{cause}:{today}"
                head = f"BOM {item.bom.name}, line {item.line} ({item.mpn or item.value}): {head}"
                message = f"{head}{figures}."
                if Notification.objects.filter(organization_id=item.bom.owner_id, kind=Notification.Kind.BOM_RISK,
                                               text__startswith=head[:250],
                                               created_at__date=timezone.localdate()).exists():
                    continue
                notify(organization_ids=[item.bom.owner_id], kind=Notification.Kind.BOM_RISK, text=message)
                webhooks_enqueue(organization_ids=[item.bom.owner_id], event="bom.line_at_risk", event_key=key,
                                 payload={"bom": item.bom_id, "line": item.line, "cause": cause, "part": item.part_id,
                                          "need": h["need"], "stock": h["stock"], "text": message})
                sent += 1
    return sent


def bom_parts_changed(*, part_ids: list[int]) -> dict:
    """What the outbox task runs after listings of these parts changed."""
    return {"rematched": bom_items_rematch(part_ids=part_ids), "alerts": bom_alerts_for_parts(part_ids=part_ids)}


def _currency() -> str:
    return settings.KITSTREET_DEFAULT_CURRENCY
