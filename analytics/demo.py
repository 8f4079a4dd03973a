"""seed_demo's analytics step: build the sales summary from the orders the seed just made."""

from analytics.services import sales_summary_rebuild


def seed_analytics(stdout) -> None:
    result = sales_summary_rebuild()
    stdout.write(
        f"Sales summary built: {result.summary_rows} product rows, {result.daily_rows} daily rows."
    )
