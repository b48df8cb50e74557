"""The passenger page: personal links, what the page shows, and what a passenger does on it."""
