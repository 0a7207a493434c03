"""SQL helpers every room may use (no room imports here)."""

from django.db.models import BooleanField, Expression, F


class InArray(Expression):
    """`column IN (values)` as a filter, sent to PostgreSQL as `column = ANY(%s)` with one array
    parameter. A quote filters by ~300 parts and ~400 vendors: Django prepared each value of an
    `__in` lookup separately (≈ 8 ms of CPU for 400 vendor ids), and the driver then bound each."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, values):
        super().__init__()
        self.column, self.values = F(column), sorted(set(values))

    # The column as a source expression: Django resolves it, and relabels it when the query
    # becomes a subquery (without this, a subquery's filter named the outer query's table).
    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        if not self.values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{column} = ANY(%s)", [*params, self.values]
        return f"{column} IN ({', '.join(['%s'] * len(self.values))})", [*params, *self.values]
