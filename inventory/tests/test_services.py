from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from inventory import services
from inventory.models import Category, Product, ProductChange, StockMovement
from inventory.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_create_initial_stock_movement_actor(inventory_manager, category):
    product = services.product_create(
        sku="X-1",
        name="X",
        category=category,
        price=Decimal("2.50"),
        quantity=12,
        actor=inventory_manager,
    )
    product.refresh_from_db()
    assert product.quantity == 12
    movement = product.movements.get()
    assert (movement.change, movement.quantity_after, movement.reason) == (12, 12, "manual")
    assert movement.actor == inventory_manager
    assert movement.note == "initial stock"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"price": Decimal("0")}, "__all__"),
        ({"cost": Decimal("-1")}, "__all__"),
        ({"quantity": -1}, "quantity"),
        ({"sku": "BK-1"}, "sku"),
        ({"name": "Atlas"}, "name"),
    ],
)
def test_product_create_invalid_writes_nothing(product, fields, error_field):
    values = {"sku": "NEW", "name": "New", "category": product.category, "price": Decimal("1")}
    with pytest.raises(ValidationError) as error:
        services.product_create(**{**values, **fields}, actor=None)
    assert error_field in error.value.message_dict
    assert list(Product.objects.all()) == [product]
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"sku": "BK-1"}, {"sku": ["Product with this SKU already exists."]}),
        ({"name": "Atlas"}, {"name": ["Product with this Name already exists."]}),
    ],
)
def test_product_update_taken_sku_or_name_field_error_unchanged(product, fields, errors):
    other = ProductFactory(category=product.category, sku="OT-1", name="Other")
    with pytest.raises(ValidationError) as error:
        services.product_update(product=other, data=fields, actor=None)
    assert error.value.message_dict == errors
    other.refresh_from_db()
    assert (other.sku, other.name) == ("OT-1", "Other")


def test_product_update_writes_only_given_fields_and_quantity_via_ledger(
    inventory_manager, product
):
    Product.objects.filter(pk=product.pk).update(cost=Decimal("8.00"))  # a concurrent edit
    services.product_update(
        product=product, data={"price": Decimal("21.00"), "quantity": 15}, actor=inventory_manager
    )
    product.refresh_from_db()
    assert (product.price, product.cost, product.quantity) == (Decimal("21.00"), 8, 15)
    movement = product.movements.get()
    assert (movement.change, movement.quantity_after) == (5, 15)
    assert movement.actor == inventory_manager


def test_product_update_stale_quantity_never_written(inventory_manager, product):
    Product.objects.filter(pk=product.pk).update(quantity=3)  # sold meanwhile
    services.product_update(product=product, data={"name": "Renamed"}, actor=inventory_manager)
    assert Product.objects.get(pk=product.pk).quantity == 3


def test_product_update_records_who_changed_what(inventory_manager, product):
    other, old_category = CategoryFactory(), product.category_id
    services.product_update(
        product=product,
        data={"price": Decimal("21.50"), "name": product.name, "category": other},
        actor=inventory_manager,
    )
    services.product_update(product=product, data={"cost": product.cost}, actor=None)

    change = ProductChange.objects.get()  # the second edit changed nothing: no row
    assert (change.product, change.actor) == (product, inventory_manager)
    assert change.changes == {
        "price": ["19.90", "21.50"],
        "category": [str(old_category), str(other.pk)],
    }


def test_product_update_invalid_changes_nothing(inventory_manager, product):
    with pytest.raises(ValidationError):
        services.product_update(
            product=product, data={"price": Decimal("-1"), "quantity": 2}, actor=inventory_manager
        )
    product.refresh_from_db()
    assert (product.price, product.quantity) == (Decimal("19.90"), 10)
    assert not StockMovement.objects.exists()
    assert not ProductChange.objects.exists()


def test_product_and_category_delete_of_sold_product_refused_changes_nothing(product, sold):
    """The order lines' PROTECT foreign key is the rule: a sold product stays, with its stock
    movements and its category."""
    sold(product)
    movements = StockMovement.objects.filter(product=product).count()
    with pytest.raises(services.ProductHasSales):
        services.product_delete(product=product)
    with pytest.raises(services.CategoryHasSales):
        services.category_delete(category=product.category)
    assert Product.objects.filter(pk=product.pk).exists()
    assert Category.objects.filter(pk=product.category_id).exists()
    assert StockMovement.objects.filter(product=product).count() == movements


def test_product_delete_unsold_removes_it(product):
    services.product_delete(product=product)
    assert not Product.objects.filter(pk=product.pk).exists()


def test_category_create_same_name_other_case_refused(category):
    with pytest.raises(ValidationError) as error:
        services.category_create(name="bOoKs")
    assert error.value.message_dict == {"name": ["A category with this name already exists."]}


def test_catalog_writes_forget_cached_counts(
    inventory_manager, category, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from inventory.selectors import COUNT_GENERATION_KEY

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        product = ProductFactory(category=category)
        services.product_update(product=product, data={"quantity": 1}, actor=inventory_manager)
        services.category_update(category=category, name="Atlases")
    assert len(callbacks) == 2
    assert cache.get(COUNT_GENERATION_KEY) == 2
