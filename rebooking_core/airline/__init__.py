"""The airline's own systems as ports: seat inventory, reservations (the PSS) and loyalty."""
