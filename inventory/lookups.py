"""`field__any_of=[…]`: membership in a long list, as one array parameter on PostgreSQL.

Django's `__in` sends one parameter per value; for the 100,000 SKUs of a large import the
query's placeholders and their quoting cost seconds of Python. On PostgreSQL this sends
`field = ANY(%s)` with the list as one array; elsewhere it is `IN (…)` (callers split the list
by `connection.features.max_query_params`).
"""

from django.db.models import Field, Lookup


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # the values go as they are: str for text fields, int for ids

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", [*params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, list(self.rhs)]
