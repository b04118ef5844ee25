"""kopf handlers only: translate events into calls to the controller (thin)."""
