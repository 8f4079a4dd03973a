"""Demo accounts for a new install (`seed_demo`)."""

import os

from accounts.models import User
from accounts.services import staff_create_or_update

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "shop-demo-2026")
DEMO_ADMIN = "admin@example.com"
DEMO_STAFF = {
    "inventory": "inventory@example.com",
    "orders": "orders@example.com",
    "analytics": "analyst@example.com",
}


def seed_users(stdout) -> None:
    User.objects.create_superuser(email=DEMO_ADMIN, password=DEMO_PASSWORD, full_name="Demo Admin")
    for role, email in DEMO_STAFF.items():
        staff_create_or_update(email=email, role=role, password=DEMO_PASSWORD)
    lines = [
        f"Demo accounts (password for all: {DEMO_PASSWORD}):",
        f"  superuser          {DEMO_ADMIN}",
        f"  inventory manager  {DEMO_STAFF['inventory']}",
        f"  order manager      {DEMO_STAFF['orders']}",
        f"  analyst            {DEMO_STAFF['analytics']}",
    ]
    stdout.write("\n".join(lines))
