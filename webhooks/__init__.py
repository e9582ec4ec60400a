"""Webhooks: organisers register a URL for chosen events; each event is POSTed there as
signed JSON by a background job, retried with backoff for a day, and logged.

signing.py (pure HMAC signatures), ssrf.py (which addresses may be called), models.py,
services.py (registration, `emit`, the event payloads), delivery.py (sending, retries,
disabling), jobs.py (job functions on the shared job queue), views.py, forms.py,
commands.py (`flask webhooks retry-due`).
"""
