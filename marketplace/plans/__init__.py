"""The buyer's purchasing across designs: its stock list, and purchase plans that buy for several
BOMs and kits at once, net of that stock (docs/purchase-plans.md)."""
