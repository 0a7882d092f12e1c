"""Endpoint server: SageMaker's hosting contract (`/ping`, `/invocations`) for a trained model."""
