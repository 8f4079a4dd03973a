"""The staff roles (groups) and their names, for commands and tests. The other apps' migrations
write the names they grant to themselves (a migration must not change with this file), with
shop.migration_operations.role_permissions_operation."""

INVENTORY_MANAGERS = "Inventory managers"
ORDER_MANAGERS = "Order managers"
ANALYSTS = "Analysts"

# create_staff --role value -> group name
ROLE_GROUPS = {
    "inventory": INVENTORY_MANAGERS,
    "orders": ORDER_MANAGERS,
    "analytics": ANALYSTS,
}
