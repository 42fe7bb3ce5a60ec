"""Lambda handlers for the tests only: each misbehaves in one of the ways Lambda must survive."""
