"""Demo catalog for a new install (`seed_demo`): deterministic, a second or less."""

import random
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from inventory.models import Category, Product, StockMovement
from inventory.services import stock_adjust

CATALOG = {
    "Books": ["Novel", "Cookbook", "Atlas", "Poetry Collection", "Field Guide"],
    "Electronics": ["Headphones", "USB-C Cable", "Power Bank", "Webcam", "Keyboard"],
    "Garden": ["Trowel", "Watering Can", "Seed Kit", "Pruning Shears", "Planter"],
    "Home": ["Mug", "Candle", "Cushion", "Throw Blanket", "Table Lamp"],
    "Sports": ["Yoga Mat", "Water Bottle", "Jump Rope", "Tennis Balls", "Dumbbell"],
    "Toys": ["Puzzle", "Kite", "Building Blocks", "Plush Bear", "Board Game"],
}
VARIANTS = ["Classic", "Deluxe", "Mini", "Pro", "Eco", "Travel", "XL", "Vintage", "Kids", "Lite"]
PRODUCTS_PER_ITEM = 10  # 6 categories × 5 items × 10 variants = 300 products


@transaction.atomic
def seed_catalog(stdout, *, received_at: datetime | None = None) -> None:
    """300 products in 6 categories and their opening stock, received (products, categories
    and the stock movements dated) at `received_at`, before any sale of the demo."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    categories = Category.objects.bulk_create(Category(name=name) for name in CATALOG)
    products = []
    for category in categories:
        for i, item in enumerate(CATALOG[category.name]):
            for variant in VARIANTS[:PRODUCTS_PER_ITEM]:
                price = Decimal(rng.randrange(299, 19999)) / 100
                products.append(
                    Product(
                        sku=f"{category.name[:3].upper()}-{i + 1:02d}-{variant[:3].upper()}",
                        name=f"{item} {variant}",
                        category=category,
                        price=price,
                        cost=(price * Decimal(rng.uniform(0.35, 0.7))).quantize(Decimal("0.01")),
                        is_active=rng.random() > 0.03,
                    )
                )
    products = Product.objects.bulk_create(products)
    # Initial stock through the ledger, as one manual movement per product (some sold out).
    stock = {p.pk: rng.choice([0, *range(1, 8), *range(10, 200, 7)]) for p in products}
    stock_adjust(changes=stock, reason=StockMovement.Reason.MANUAL, note="opening stock")
    if received_at is not None:
        Category.objects.update(created_at=received_at)
        Product.objects.update(created_at=received_at, updated_at=received_at)
        StockMovement.objects.filter(product__in=products).update(created_at=received_at)
    stdout.write(f"Demo catalog: {len(categories)} categories, {len(products)} products.")
