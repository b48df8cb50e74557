"""The airline domain: flights, bookings, inventory, disruptions, options and booking."""
