"""Children's privacy (UK ICO Age Appropriate Design Code: high privacy by default).

A child's account (`User.is_child`) is visible only inside its class: the child, their
teachers (organisers who captain a team the child belongs to) and the members of the
child's teams. Everything else in the app asks this package:

- policy.py    who may see a child (`may_see_child`), a child's teachers, the refusal of
               public actions (`refuse_public`), the per-child settings (`child_settings`)
- models.py    ModerationHold: a child's submitted evidence (text and photos) waits for a
               teacher before anyone outside the class sees it
- services.py  holding, approving and rejecting evidence; who may see a child's claim
- quiet.py     quiet hours (pure): CHILD_QUIET_HOURS and CHILD_QUIET_DAYS in the site's zone
- notify.py    no email to children; in-app notifications held over quiet hours
- views.py     the teacher's moderation queue (/moderation)
"""
