"""The service: the job queue (huey), the web server and the producer app, and the Dutch words
they and the CLI share for what the flows return."""
