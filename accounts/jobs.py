"""Account mail, sent from the job queue so a request never waits on SMTP (and answers
in the same time whether or not the address has an account)."""
from __future__ import annotations

from accounts.models import User
from accounts.services import needs_verification, password_reset_token, verify_email_token
from extensions import db
from notifications.jobs import job_context, sender
from notifications.mail import absolute_url, password_reset_email, verify_email_message


def send_password_reset_job(user_id: int) -> bool:
    """Email a reset link. The token is made here, so no secret waits in the queue."""
    with job_context() as app:
        user = db.session.get(User, user_id)
        if user is None or not user.email:
            return False
        token = password_reset_token(user, secret_key=app.config["SECRET_KEY"])
        minutes = app.config["PASSWORD_RESET_MAX_AGE_S"] // 60
        sender().send(password_reset_email(to=user.email, name=user.display_name, minutes=minutes,
                                           url=absolute_url("accounts.reset_password", token=token)))
        return True


def send_verification_job(user_id: int) -> bool:
    """Email a link that confirms the address (nothing to do once it is confirmed)."""
    with job_context() as app:
        user = db.session.get(User, user_id)
        if user is None or not needs_verification(user):
            return False
        token = verify_email_token(user, secret_key=app.config["SECRET_KEY"])
        sender().send(verify_email_message(to=user.email, name=user.display_name,
                                           url=absolute_url("accounts.verify_email", token=token)))
        return True
