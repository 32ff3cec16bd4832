"""multivariate distributions (filled in by the catalogue work)."""

__all__: list[str] = []
