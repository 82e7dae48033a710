"""Training: specs, pipelines, runs in a child process, model versions and their evidence."""
