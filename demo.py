"""`flask --app app demo`: a living demo town."""
import click


@click.command("demo")
def demo_command() -> None:
    """Load the demo town (placeholder)."""
