"""The airline's own app: action tokens carried by push notifications, taps and opens coming back, fallback when unseen."""
