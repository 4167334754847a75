"""Command-line tools: ``flask --app webapp <command>``."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app

from . import accounts, api_tokens, demo, generate, services, worker
from .exceptions import DomainError
from .models import User


def init_app(app: Flask) -> None:
    for command in (
        create_groups, create_admin, add_to_group, remove_from_group, seed_demo, generate_data,
        run_worker, autoclose, create_token,
    ):  # fmt: skip
        app.cli.add_command(command)


def _user(login: str) -> User:
    user = accounts.find_user(login)
    if user is None:
        raise click.ClickException(f"There is no user {login!r}.")
    return user


def _group(name: str):
    try:
        return accounts.role_group(name)
    except DomainError as e:
        raise click.ClickException(e.message) from e


@click.command("create-groups")
def create_groups() -> None:
    """Create the staff and admin groups (safe to run again)."""
    for group in accounts.ensure_groups():
        click.echo(f"Group {group.name!r} is there.")


@click.command("create-admin")
@click.argument("username")
@click.option("--password", help="The password; asked for when not given.")
@click.option("--email", help="E-mail address for a new user (default USERNAME@localhost).")
def create_admin(username: str, password: str | None, email: str | None) -> None:
    """Create an admin, or make an existing user one."""
    _, admin = accounts.ensure_groups()
    user = accounts.find_user(username)
    if user is None:
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(
                username=username, email=email or f"{username}@localhost", password=password
            )
        except DomainError as e:
            details = "; ".join(f"{k}: {v}" for k, v in e.fields.items())
            raise click.ClickException(f"{e.message} {details}".strip()) from e
        click.echo(f"Created user {user.username!r}.")
    elif password is not None:
        accounts.set_password(user=user, password=password)
        click.echo(f"Set a new password for {user.username!r}.")
    if accounts.add_to_group(user=user, group=admin):
        click.echo(f"{user.username!r} is now an admin.")
    else:
        click.echo(f"{user.username!r} was an admin already.")


def _membership_command(name: str, change, done: str, unchanged: str, doc: str):
    @click.command(name, help=doc)
    @click.argument("user")
    @click.argument("group")
    def command(user: str, group: str) -> None:
        member, role = _user(user), _group(group)
        changed = change(user=member, group=role)
        click.echo(f"{member.username!r} {done if changed else unchanged} {role.name!r}.")

    return command


add_to_group = _membership_command(
    "add-to-group", accounts.add_to_group, "added to", "was already in",
    "Put USER (username or e-mail) into GROUP (the staff or the admin group).",
)  # fmt: skip
remove_from_group = _membership_command(
    "remove-from-group", accounts.remove_from_group, "removed from", "was not in",
    "Take USER (username or e-mail) out of GROUP.",
)  # fmt: skip


@click.command("seed-demo")
@click.option("--password", default="demo", show_default=True, help="Password of the demo users.")
def seed_demo(password: str) -> None:
    """Fill the database with a lived-in help desk (safe to run again)."""
    report = demo.seed(password=password)
    click.echo(report)


@click.command("generate-data")
@click.option("--tickets", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--comments-per-ticket", type=click.IntRange(0, 100), default=3, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
def generate_data(tickets: int, comments_per_ticket: int, seed: int) -> None:
    """Bulk-load a large data set for benchmarks (into an empty database)."""
    started = time.perf_counter()
    counts = generate.generate(tickets=tickets, comments_per_ticket=comments_per_ticket, seed=seed)
    seconds = time.perf_counter() - started
    click.echo(
        ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
        + f" in {seconds:.1f} s"
    )


@click.command("worker")
@click.option("--once", is_flag=True, help="Do one round and stop (for cron).")
@click.option("--interval", type=click.FloatRange(0.1), help="Seconds between rounds.")
def run_worker(once: bool, interval: float | None) -> None:
    """Deliver notifications (mail, digests) and auto-close solved tickets, until stopped."""
    current_app.logger.setLevel(logging.INFO)
    if once:
        done = worker.run_once()
        click.echo(", ".join(f"{v} {k}" for k, v in done.items()))
    else:
        worker.run(interval)


@click.command("autoclose")
def autoclose() -> None:
    """Close the solved tickets that have waited longer than AUTOCLOSE_AFTER."""
    closed = services.autoclose()
    if services.autoclose_after() is None:
        click.echo("Auto-close is off (AUTOCLOSE_AFTER is 0, or the workflow has no ready state).")
    else:
        numbers = ", ".join(f"#{n}" for n in closed)
        click.echo(f"Closed {len(closed)} ticket(s){': ' + numbers if closed else ''}.")


@click.command("create-token")
@click.argument("user")
@click.argument("name")
def create_token(user: str, name: str) -> None:
    """Make an API token for USER (username or e-mail) called NAME and print it (once)."""
    try:
        _, secret = api_tokens.create(user=_user(user), name=name)
    except DomainError as e:
        raise click.ClickException(e.message) from e
    click.echo(secret)
