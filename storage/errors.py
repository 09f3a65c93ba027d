"""Storage-level failures that use cases translate into domain errors."""


class ConflictError(Exception):
    """A uniqueness constraint refused the write (someone else got there first)."""
