from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from shop.validators import no_control_characters

# The largest id a BigAutoField holds: a larger number names nothing (and SQLite cannot even
# bind it), so inputs beyond it are refused before any query.
MAX_ID = 2**63 - 1


class Category(models.Model):
    name = models.CharField(max_length=100, validators=[no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="inventory_category_name_ci_unique",
                violation_error_message="A category with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    """A sellable item. `quantity` is written only by inventory.services (the stock ledger)."""

    # sku and name are unique through Meta.constraints, not `unique=True`: on PostgreSQL a unique
    # CharField also gets a varchar_pattern_ops `_like` index, which only `startswith` lookups
    # use (search uses the trigram indexes) and every insert pays for. Same validation messages.
    sku = models.CharField("SKU", max_length=64, validators=[no_control_characters])
    name = models.CharField(max_length=200, validators=[no_control_characters])
    # No index of its own: product_category_name_idx and product_category_price_idx start with it.
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="products", db_index=False
    )
    price = models.DecimalField(max_digits=10, decimal_places=2)
    cost = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    quantity = models.IntegerField("quantity on hand", default=0)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # No violation_error_message: Django then reports a duplicate exactly as it did for
            # `unique=True` ("Product with this SKU already exists.", code "unique", on the field),
            # and DRF builds the same UniqueValidator for the field.
            models.UniqueConstraint(fields=["sku"], name="inventory_product_sku_unique"),
            models.UniqueConstraint(fields=["name"], name="inventory_product_name_unique"),
            models.CheckConstraint(
                condition=Q(price__gt=0),
                name="inventory_product_price_positive",
                violation_error_message="Price must be greater than 0.",
            ),
            models.CheckConstraint(
                condition=Q(cost__gte=0),
                name="inventory_product_cost_not_negative",
                violation_error_message="Cost cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="inventory_product_quantity_not_negative",
                violation_error_message="Quantity cannot be negative.",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "name"], name="product_category_name_idx"),
            # A category's page by price (either direction), without sorting the category.
            models.Index(fields=["category", "price", "id"], name="product_category_price_idx"),
            models.Index(fields=["price", "id"], name="product_price_idx"),
            models.Index(fields=["quantity", "id"], name="product_quantity_idx"),
            models.Index(fields=["is_active", "name"], name="product_active_name_idx"),
        ]
        permissions = [
            ("import_product", "Can import products from a spreadsheet"),
            ("export_product", "Can export products to a spreadsheet"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class ImportBatch(models.Model):
    """One spreadsheet import: who, when, which file, and what it did."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        COMMAND = "command", "Command"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_batches",
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    file_name = models.CharField(max_length=255, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    categories_created = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import #{self.pk} {self.file_name}".strip()


class StockMovement(models.Model):
    """The stock ledger: one row for every change of a product's quantity."""

    class Reason(models.TextChoices):
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"
        ORDER = "order", "Order"
        CANCELLATION = "cancellation", "Cancellation"
        REFUND = "refund", "Refund"

    # No index of its own: movement_product_time_idx (product, -created_at) starts with it.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="movements", db_index=False
    )
    change = models.IntegerField()
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stock_movements",
    )
    # The order that moved the stock, by id: inventory knows no orders (no foreign key, so no
    # dependency on the orders app, in code or in migrations). Orders are never deleted.
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="movement_product_time_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_after__gte=0), name="inventory_movement_after_not_negative"
            ),
        ]

    def __str__(self):
        return f"Movement #{self.pk}: {self.change:+d} ({self.get_reason_display().lower()})"


class ImportJob(models.Model):
    """A product import run as a background job (a file larger than IMPORT_SYNC_MAX_BYTES, or
    `import_products --background`): its file, its progress and its outcome.

    The file is kept through Django's default storage (the media folder unless configured) and
    deleted when the job ends. The import itself is all or nothing, as a synchronous one.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    source = models.CharField(max_length=10, choices=ImportBatch.Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="imports/", max_length=255, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    dry_run = models.BooleanField(default=False)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    categories_created = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # How many times a worker started it: a worker that died mid-job leaves it to be redelivered.
    attempts = models.PositiveSmallIntegerField(default=0)
    batch = models.OneToOneField(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="job"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import job #{self.pk} {self.file_name}".strip()

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


class ProductChange(models.Model):
    """The catalog's audit trail: who changed which of a product's fields, from what to what.

    Written by inventory.services.product_update in the transaction of the change (stock has
    its own ledger, StockMovement; a spreadsheet import its ImportBatch).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="product_changes",
    )
    # {"field": [old, new]} with the values as text (a category by id).
    changes = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.product_id}: {', '.join(self.changes)}"
