"""Routing an assembled order: the parts go to the factory that assembles the kit, and the
factory's purchase order carries the job (boards, placements, the consigned parts coming to it)."""

from marketplace.orders.models import Order
from marketplace.sourcing.assembly import kit_placements, quote_assembly_factory_id
from marketplace.sourcing.models import Quote


def assembly_route(*, order: Order, quote: Quote) -> None:
    """Inside order_place's transaction, after the purchase orders exist. An order whose kit is
    assembled by a factory (its author's, an awarded bid's or a rate card's) ships every other
    vendor's parts to that factory; the factory's own purchase order lists what it will receive."""
    factory_id = quote_assembly_factory_id(quote, default=quote.kit.assembly_factory_id)
    if not factory_id:
        return
    purchase_orders = list(order.purchase_orders.select_related("vendor").prefetch_related("lines").order_by("pk"))
    factory_po = next((po for po in purchase_orders if po.vendor_id == factory_id), None)
    if factory_po is None:  # the kit's assembly is priced at zero: nothing to route
        return
    consigned = []
    for po in purchase_orders:
        parts = [(line.description, line.quantity) for line in po.lines.all() if line.listing_id]
        if not parts:
            continue
        consigned += [{"vendor": po.vendor_id, "vendor_name": po.vendor.name, "purchase_order": po.pk,
                       "part": description, "quantity": quantity} for description, quantity in parts]
        if po.vendor_id != factory_id:
            po.ship_to_id = factory_id
            po.save(update_fields=["ship_to", "updated_at"])
    placements = kit_placements(quote.kit)
    factory_po.assembly_brief = {
        "kit": quote.kit.name, "boards": quote.quantity, "placements_per_board": placements.per_board,
        "placements": placements.per_board * quote.quantity, "unique_parts": len(placements.part_ids),
        "rate_card": (quote.assembly or {}).get("rate_card"), "consigned": consigned,
    }
    factory_po.save(update_fields=["assembly_brief", "updated_at"])
