"""The worker process: jobs from the queue, the dispatcher, timers and privacy jobs."""
