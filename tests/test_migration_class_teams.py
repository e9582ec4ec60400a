"""The data migration c4d8e1f7a2b9: what got into a class's team (or a pupil into another
team) before the services refused it is taken out on upgrade."""
from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from accounts.models import Team, TeamInvite, TeamJoinRequest, TeamMembership, User
from app import MIGRATIONS_DIR, create_app
from classes.models import ClassChild, SchoolClass
from extensions import db
from tests.conftest import app_config
from timeutil import utcnow

BEFORE = "a7c3e9d2f1b4"


def test_upgrading_takes_adults_out_of_class_teams_and_pupils_out_of_other_teams(tmp_path):
    app = create_app({**app_config(f"sqlite:///{tmp_path / 'old.db'}", None), "AUTO_MIGRATE": False})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        now = utcnow()
        teacher, adult, pupil, other_captain = (
            User(email=email, password_hash="x", display_name=name, role=role, is_child=child, created_at=now)
            for email, name, role, child in [("t@example.org", "Teacher", "organiser", False),
                                             ("a@example.org", "Adult", "participant", False),
                                             (None, "Pupil", "participant", True),
                                             ("c@example.org", "Captain", "organiser", False)])
        db.session.add_all([teacher, adult, pupil, other_captain])
        db.session.flush()
        class_team = Team(name="Oak Class", join_code="OAKOAK01", captain_id=teacher.id)
        other_team = Team(name="Litter Pickers", join_code="LITTER01", captain_id=other_captain.id)
        db.session.add_all([class_team, other_team])
        db.session.flush()
        school_class = SchoolClass(team_id=class_team.id, code="OAK123", created_at=now)
        db.session.add(school_class)
        db.session.flush()
        db.session.add_all([
            ClassChild(class_id=school_class.id, user_id=pupil.id, card_name="Mighty Meadow"),
            TeamMembership(team_id=class_team.id, user_id=pupil.id, joined_at=now),
            TeamMembership(team_id=class_team.id, user_id=adult.id, joined_at=now),  # in by an invite link
            TeamMembership(team_id=other_team.id, user_id=pupil.id, joined_at=now),  # in by a join code
            TeamMembership(team_id=other_team.id, user_id=adult.id, joined_at=now),
            TeamInvite(team_id=class_team.id, token_hash="h1", created_by_id=teacher.id, created_at=now,
                       expires_at=now + timedelta(days=7)),
            TeamJoinRequest(team_id=class_team.id, user_id=other_captain.id, created_at=now),
        ])
        db.session.commit()
        downgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        upgrade(directory=MIGRATIONS_DIR)
        db.session.expire_all()
        members = set(db.session.execute(select(TeamMembership.team_id, TeamMembership.user_id)))
        assert members == {(class_team.id, pupil.id), (other_team.id, adult.id)}
        assert db.session.scalar(select(TeamInvite.revoked_at)) is not None
        assert db.session.scalar(select(TeamJoinRequest.status)) == "declined"
        db.session.remove()
        db.engine.dispose()
