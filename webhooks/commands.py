"""`flask --app app webhooks retry-due`: send every webhook delivery that is due."""
from __future__ import annotations

import click

from webhooks import jobs


def register(cli: click.Group) -> None:
    @cli.command("retry-due")
    def retry_due_command() -> None:
        """Send due deliveries: retries whose time has come and first tries whose job was lost.
        Run it from cron every minute or two (the notifications worker also does this)."""
        outcomes = jobs.retry_due()
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
        click.echo(f"Webhook deliveries tried {len(outcomes)}: delivered {counts.get('delivered', 0)}, "
                   f"retrying {counts.get('pending', 0)}, failed {counts.get('failed', 0)}.")
