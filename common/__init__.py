"""General utilities every layer may use (acquisition, detection, app): they import nothing of Vigil's own, so
importing one never drags a layer along (the uplink needs ``Backoff`` without depending on the field sources)."""
