"""Analytics writes. (Stub: the analytics issue replaces this module.)"""


def sales_summary_record(*, order, sign: int) -> None:
    """Add (`sign=1`, at execution) or remove (`sign=-1`, at refund) an order's lines from the
    sales summaries. Called by orders.services inside the order's transaction, after its lines'
    unit_price and unit_cost are fixed. A no-op until the analytics app provides it.
    """
