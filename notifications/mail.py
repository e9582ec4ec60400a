"""Sending email: one interface, an SMTP and a log implementation, and the messages.

`MailSender` is the interface; create_app (through notifications.wiring) picks
`SmtpSender` when SMTP_HOST is set and `LogSender` otherwise, and keeps it in
app.extensions["fixquest.mail"]. Tests put a recording or failing sender there instead.
A sender raises on failure; the delivery loop turns that into a retry.
"""
from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app, render_template

from notifications import tokens

mail_log = logging.getLogger("fixquest.mail")


class MailSender(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise."""


@dataclass
class SmtpSender:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    use_tls: bool = True  # STARTTLS on 587; port 465 means TLS from the first byte
    timeout: float = 20.0
    name: str = field(default="smtp", init=False)

    _context: ssl.SSLContext | None = field(default=None, init=False, repr=False, compare=False)

    def _tls(self) -> ssl.SSLContext:
        """One TLS context for the sender's life: building one loads the system's CA
        certificates, which took 0.3 s per email when it was made for each (bench/drill.py)."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def send(self, message: EmailMessage) -> None:
        if self.port == 465:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.use_tls and self.port != 465:
                client.starttls(context=self._tls())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


class LogSender:
    """No SMTP server configured: the email is written to the "fixquest.mail" log, which
    counts as sent (development, demos, tests)."""

    name = "log"

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        mail_log.info("email to %s: %s\n%s", message["To"], message["Subject"],
                      body.get_content() if body is not None else "")


def make_sender(config) -> MailSender:
    if config.get("SMTP_HOST"):
        return SmtpSender(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 587),
                          username=config.get("SMTP_USERNAME"), password=config.get("SMTP_PASSWORD"),
                          use_tls=bool(config.get("SMTP_USE_TLS", True)))
    return LogSender()


# --- links ---------------------------------------------------------------------------------

def public_base_url(config) -> str:
    if config.get("PUBLIC_URL"):
        return str(config["PUBLIC_URL"]).rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return "http://localhost:5000"


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for an email, built without a request (jobs have none)."""
    app = current_app
    base = urlsplit(public_base_url(app.config))
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def unsubscribe_url(*, user_id: int, subscription_id: int | None) -> str:
    token = tokens.make_token(current_app.config["SECRET_KEY"], user_id=user_id, subscription_id=subscription_id)
    return absolute_url("notifications.unsubscribe_confirm", token=token)


# --- messages ------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    """Header values never carry line breaks (header injection), whatever a title holds."""
    return " ".join(str(text).split())


# Headers are never folded below the RFC 5322 limit of 998 characters: with the default
# 78, a long List-Unsubscribe URL (no spaces to fold at) becomes an RFC 2047 encoded word
# that mail clients do not read as a link.
POLICY = email.policy.default.clone(max_line_length=998)


def _message(*, to: str, subject: str, text: str, html: str, unsubscribe: str | None) -> EmailMessage:
    config = current_app.config
    message = EmailMessage(policy=POLICY)
    message["From"] = config.get("MAIL_FROM") or "FixQuest <noreply@localhost>"
    message["To"] = to
    message["Subject"] = _one_line(f"[FixQuest] {subject}")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=urlsplit(public_base_url(config)).hostname or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:  # account mail (a password reset) is not a list one can leave
        # RFC 2369 and RFC 8058: mail clients show an Unsubscribe button that POSTs to the link.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def notification_message_id(notification_id: int) -> str:
    """One notification's Message-ID, the same however often it is sent."""
    host = urlsplit(public_base_url(current_app.config)).hostname or "localhost"
    return f"<fixquest.notification.{notification_id}@{host}>"


@dataclass(frozen=True)
class DigestItem:
    headline: str
    update: object
    problem: object
    problem_url: str
    unsubscribe_url: str | None


def update_email(*, to: str, user_id: int, subscription_id: int | None, update, problem, headline: str,
                 subscription_line: str | None) -> EmailMessage:
    """The email for one update to one subscriber."""
    unsubscribe = unsubscribe_url(user_id=user_id, subscription_id=subscription_id) if subscription_id \
        else absolute_url("notifications.settings")
    context = dict(headline=headline, update=update, problem=problem,
                   problem_url=absolute_url("challenges.problem", problem_id=problem.id),
                   settings_url=absolute_url("notifications.settings"),
                   unsubscribe_url=unsubscribe, subscription_line=subscription_line)
    return _message(to=to, subject=headline, unsubscribe=unsubscribe,
                    text=render_template("email/update.txt", **context),
                    html=render_template("email/update.html", **context))


def digest_email(*, to: str, user_id: int, items: list[DigestItem]) -> EmailMessage:
    """One daily email with every waiting update; its List-Unsubscribe stops digests."""
    unsubscribe = unsubscribe_url(user_id=user_id, subscription_id=None)
    count = len(items)
    subject = f"Your daily digest: {count} update{'s' if count != 1 else ''}"
    context = dict(items=items, count=count, settings_url=absolute_url("notifications.settings"),
                   unsubscribe_url=unsubscribe)
    return _message(to=to, subject=subject, unsubscribe=unsubscribe,
                    text=render_template("email/digest.txt", **context),
                    html=render_template("email/digest.html", **context))


def password_reset_email(*, to: str, name: str, url: str, minutes: int) -> EmailMessage:
    values = {"name": name, "url": url, "minutes": minutes}
    return _message(to=to, subject="Reset your password",
                    text=render_template("email/password_reset.txt", **values),
                    html=render_template("email/password_reset.html", **values), unsubscribe=None)


def verify_email_message(*, to: str, name: str, url: str) -> EmailMessage:
    values = {"name": name, "url": url}
    return _message(to=to, subject="Confirm your email address",
                    text=render_template("email/verify_email.txt", **values),
                    html=render_template("email/verify_email.html", **values), unsubscribe=None)
