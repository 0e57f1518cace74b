"""The object types the simulated controller serves (the facts shared with the client, in common/)."""

from common.avi_types import CLASS_NAMES, INVENTORY_TYPES, OBJECT_TYPES, SINGLETONS, class_name

__all__ = ["CLASS_NAMES", "INVENTORY_TYPES", "OBJECT_TYPES", "SINGLETONS", "class_name"]
