"""`flask --app app demo`: a living demo town around Bristol's Old City.

Everything is made through the services (create_user, report_problem, change_status,
create_quest, claim_quest, submit_evidence, review_claim), so the demo obeys the same
rules as real use: problems carry a true public history and points reach the ledger and
the leaderboards the normal way.

The command is idempotent. Each demo person, team, problem, quest and claim is found by
its natural key (email, team name, title and author, quest and claimant) and made only
when missing, so a second run changes nothing and a half-loaded town is topped up. The
data is fixed (no randomness); only times are relative to "now", so deadlines are always
a few hours or days away on a fresh database. Team join codes come from the service and
differ between databases.

The people in PEOPLE are grown-ups with pseudonyms ("Swift Otter"): the two "Class
Families" teams are classes' parents and carers, captained by their teachers. Children are
in one real school class (CLASS), made through the classes service like any other: no
email, pseudonyms from the safe word list, nothing public. Its login cards' secrets are
random and shown once, so they are printed when the first run makes the class.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.models import Team, User
from challenges import reviews, tracker
from challenges import services as challenges
from challenges.models import Claim, Problem, Quest
from errors import DomainError
from extensions import db
from notifications.jobs import ThreadJobQueue
from timeutil import utcnow

DEMO_DOMAIN = "demo.fixquest.example"
DEMO_PASSWORD = "fixquest-demo-2026"  # noqa: S105 - a published demo password, refused in production
DEMO_TOWN = "Bristol Old City"
DEMO_CENTRE = (51.4545, -2.5930)  # Corn Street, by St Nicholas Market
DEMO_RADIUS_KM = 1.5


@dataclass(frozen=True)
class Person:
    key: str
    display_name: str
    role: str = "participant"
    about: str = ""

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class TeamPlan:
    name: str
    captain: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class ProblemPlan:
    title: str
    category: str
    address: str
    lat: float
    lon: float
    description: str
    reporter: str
    days_ago: float
    status: str = "open"
    handler: str = "council.sam"
    closing_note: str | None = None


@dataclass(frozen=True)
class QuestPlan:
    key: str
    title: str
    brief: str
    points: int
    difficulty: str
    mode: str
    evidence_wanted: str
    author: str
    ends_in: timedelta | None
    problem: str | None = None  # a ProblemPlan title
    days_ago: float = 7


@dataclass(frozen=True)
class ClaimPlan:
    quest: str  # a QuestPlan key
    claimant: str
    outcome: str  # taken, submitted, approved, rejected
    days_ago: float
    evidence: str = ""
    team: str | None = None  # a TeamPlan name, for team quests
    reviewer: str = "council.sam"
    reason: str | None = None


# --- the people ----------------------------------------------------------------------------

PEOPLE: tuple[Person, ...] = (
    Person("admin", "FixQuest Admin", "admin", "runs the site"),
    Person("teacher.patel", "Ms Patel (Oak Class)", "organiser", "Year 6 teacher, captain of Oak Class Families"),
    Person("teacher.okafor", "Mr Okafor (Willow Class)", "organiser", "Year 5 teacher, captain of Willow Class Families"),
    Person("council.sam", "Sam Reid (City Council)", "organiser", "council street-care officer"),
    Person("volunteers.jo", "Jo (Harbourside Helpers)", "organiser", "volunteer lead"),
    # Oak Class Families: grown-ups of a Year 6 class, with pseudonyms; their teacher captains the team.
    # (Children themselves get accounts only in a school class, made by a teacher on Organise.)
    Person("oak.swift-otter", "Swift Otter", about="Oak Class family"),
    Person("oak.brave-badger", "Brave Badger", about="Oak Class family"),
    Person("oak.quiet-heron", "Quiet Heron", about="Oak Class family"),
    Person("oak.bright-kestrel", "Bright Kestrel", about="Oak Class family"),
    Person("oak.jolly-puffin", "Jolly Puffin", about="Oak Class family"),
    Person("oak.clever-fox", "Clever Fox", about="Oak Class family"),
    # Willow Class Families (Year 5).
    Person("willow.happy-hedgehog", "Happy Hedgehog", about="Willow Class family"),
    Person("willow.nimble-newt", "Nimble Newt", about="Willow Class family"),
    Person("willow.sunny-wren", "Sunny Wren", about="Willow Class family"),
    Person("willow.gentle-deer", "Gentle Deer", about="Willow Class family"),
    Person("willow.busy-beaver", "Busy Beaver", about="Willow Class family"),
    # Harbourside Helpers, a volunteer group.
    Person("helpers.tidy-tom", "Tidy Tom", about="Harbourside Helpers"),
    Person("helpers.harbour-hannah", "Harbour Hannah", about="Harbourside Helpers"),
    Person("helpers.bike-lane-bea", "Bike Lane Bea", about="Harbourside Helpers"),
    Person("helpers.marsh-street-mo", "Marsh Street Mo", about="Harbourside Helpers"),
    # Residents who play alone.
    Person("resident.morning-jogger", "Morning Jogger", about="resident"),
    Person("resident.dog-walker-dev", "Dog Walker Dev", about="resident"),
)

OAK, WILLOW, HELPERS = "Oak Class Families", "Willow Class Families", "Harbourside Helpers"

TEAMS: tuple[TeamPlan, ...] = (
    TeamPlan(OAK, "teacher.patel", ("oak.swift-otter", "oak.brave-badger", "oak.quiet-heron",
                                    "oak.bright-kestrel", "oak.jolly-puffin", "oak.clever-fox")),
    TeamPlan(WILLOW, "teacher.okafor", ("willow.happy-hedgehog", "willow.nimble-newt", "willow.sunny-wren",
                                        "willow.gentle-deer", "willow.busy-beaver")),
    TeamPlan(HELPERS, "volunteers.jo", ("helpers.tidy-tom", "helpers.harbour-hannah",
                                        "helpers.bike-lane-bea", "helpers.marsh-street-mo")),
)

# --- the problems --------------------------------------------------------------------------

P = ProblemPlan
PROBLEMS: tuple[ProblemPlan, ...] = (
    # pothole
    P("Deep pothole outside the bank on Baldwin Street", "pothole", "Baldwin Street", 51.4531, -2.5943,
      "About a hand deep in the eastbound lane; cyclists swerve round it into traffic.",
      "resident.morning-jogger", 26, "fixed"),
    P("Cluster of potholes in the Welsh Back cycle lane", "pothole", "Welsh Back", 51.4513, -2.5918,
      "Four potholes in a row by the old granary; they fill with water after rain.",
      "helpers.bike-lane-bea", 18, "in_progress"),
    P("Sunken cobbles on King Street", "pothole", "King Street", 51.4504, -2.5938,
      "A patch of cobbles has sunk outside the theatre; easy to turn an ankle in the dark.",
      "helpers.harbour-hannah", 9, "confirmed"),
    P("Pothole at the Victoria Street crossing", "pothole", "Victoria Street", 51.4518, -2.5878,
      "Right where people step off the kerb at the pedestrian crossing.",
      "resident.dog-walker-dev", 2),
    # litter
    P("Overflowing bins by the Castle Park bandstand", "litter", "Castle Park", 51.4560, -2.5875,
      "Both bins are full by Sunday afternoon and the wind spreads litter across the grass.",
      "willow.happy-hedgehog", 12, "confirmed"),
    P("Takeaway litter along the Harbourside steps", "litter", "Canon's Road", 51.4499, -2.5985,
      "Boxes, cups and cans left on the steps by the water after sunny evenings.",
      "helpers.tidy-tom", 3),
    P("Litter piling up at the Bearpit", "litter", "St James Barton", 51.4606, -2.5892,
      "Litter has gathered in the planted beds round the sunken square.",
      "volunteers.jo", 15, "in_progress"),
    P("Cans and bottles in Queen Square after the weekend", "litter", "Queen Square", 51.4499, -2.5948,
      "Glass under the benches on the north side; dangerous for dogs and small children.",
      "resident.dog-walker-dev", 21, "fixed"),
    P("Litter caught in the railings on Bristol Bridge", "litter", "Bristol Bridge", 51.4527, -2.5907,
      "Plastic bags and wrappers snagged along the railings, some hanging over the water.",
      "oak.swift-otter", 1),
    # fly-tipping
    P("Mattress and sofa dumped on Old Market Street", "fly-tipping", "Old Market Street", 51.4568, -2.5810,
      "A double mattress and a broken sofa left on the pavement by the bus stop.",
      "resident.morning-jogger", 4, "confirmed"),
    P("Builders' rubble behind Lewins Mead", "fly-tipping", "Lewins Mead", 51.4563, -2.5958,
      "A dozen bags of rubble and plasterboard dumped in the service lane.",
      "council.sam", 11, "in_progress"),
    P("Bags of rubbish dumped at Redcliffe Backs", "fly-tipping", "Redcliffe Backs", 51.4506, -2.5899,
      "Black bags split open by gulls, on the quay path.",
      "helpers.harbour-hannah", 24, "fixed"),
    P("Fridge left on the pavement in Stokes Croft", "fly-tipping", "Stokes Croft", 51.4638, -2.5893,
      "An old fridge-freezer blocking half the pavement.",
      "resident.dog-walker-dev", 19, "closed",
      closing_note="The owner booked a bulky waste collection and it was taken away the next day."),
    # graffiti
    P("Tags on the Welsh Back wall", "graffiti", "Welsh Back", 51.4518, -2.5915,
      "Fresh spray-paint tags along the low wall by the moorings.",
      "helpers.bike-lane-bea", 2),
    P("Graffiti in the Lewins Mead underpass", "graffiti", "Lewins Mead", 51.4566, -2.5952,
      "Tags all along both walls of the pedestrian underpass; it feels unsafe at night.",
      "oak.brave-badger", 8, "confirmed"),
    P("Spray paint on the Corn Street bollards", "graffiti", "Corn Street", 51.4548, -2.5928,
      "Silver paint on six of the bollards outside the Exchange.",
      "council.sam", 25, "fixed"),
    P("Stickers and tags on the Nelson Street bus shelter", "graffiti", "Nelson Street", 51.4567, -2.5930,
      "The shelter glass is covered in stickers, so you cannot see the bus coming.",
      "willow.sunny-wren", 5),
    # street lighting
    P("Street light out on King Street", "street lighting", "King Street", 51.4502, -2.5932,
      "The lamp-post opposite the Old Vic has been dark for a week.",
      "helpers.marsh-street-mo", 7, "confirmed"),
    P("Flickering lamp on Christmas Steps", "street lighting", "Christmas Steps", 51.4572, -2.5949,
      "The lamp halfway up the steps flickers on and off all night.",
      "oak.quiet-heron", 13, "in_progress"),
    P("Dark stretch on the Narrow Quay path", "street lighting", "Narrow Quay", 51.4504, -2.5968,
      "Two lights out in a row, so the quayside path is pitch dark by the water.",
      "helpers.harbour-hannah", 1),
    P("Lamp post leaning on Prince Street", "street lighting", "Prince Street", 51.4488, -2.5952,
      "Looks like it was clipped by a lorry; it leans towards the road.",
      "resident.morning-jogger", 27, "fixed"),
    # broken furniture
    P("Broken bench slats in Queen Square", "broken furniture", "Queen Square", 51.4502, -2.5953,
      "Two slats snapped on the bench by the east path; the screws stick up.",
      "willow.nimble-newt", 10, "confirmed"),
    P("Snapped bike rack on Broad Street", "broken furniture", "Broad Street", 51.4556, -2.5932,
      "One hoop of the bike rack is snapped off at the base.",
      "helpers.bike-lane-bea", 3),
    P("Damaged bin housing on College Green", "broken furniture", "College Green", 51.4520, -2.6003,
      "The bin's outer case is cracked open and the liner blows away.",
      "oak.bright-kestrel", 20, "fixed", handler="teacher.patel"),
    P("Wobbly handrail on the Millennium Square steps", "broken furniture", "Millennium Square",
      51.4495, -2.5982, "The handrail moves when you lean on it.",
      "willow.gentle-deer", 14, "in_progress"),
    # overgrown vegetation
    P("Brambles blocking the Brandon Hill steps", "overgrown vegetation", "Brandon Hill", 51.4527, -2.6050,
      "Brambles have grown across half the width of the steps up from Jacob's Wells Road.",
      "volunteers.jo", 9, "confirmed"),
    P("Hedge over the pavement on Park Row", "overgrown vegetation", "Park Row", 51.4565, -2.6000,
      "The hedge pushes pushchairs and wheelchairs out into the road.",
      "resident.dog-walker-dev", 4),
    P("Weeds pushing through the Castle Park paths", "overgrown vegetation", "Castle Park", 51.4557, -2.5865,
      "Weeds have lifted the path edges near the church ruins.",
      "willow.busy-beaver", 22, "fixed", handler="teacher.okafor"),
    P("Weeds and litter on Christmas Steps", "overgrown vegetation", "Christmas Steps", 51.4571, -2.5951,
      "Weeds in every crack of the steps, with litter trapped in them.",
      "oak.jolly-puffin", 6, "confirmed", handler="teacher.patel"),
    P("Ivy covering the street sign on Queen Charlotte Street", "overgrown vegetation",
      "Queen Charlotte Street", 51.4517, -2.5935, "You cannot read the street name for the ivy.",
      "helpers.tidy-tom", 2),
    # other
    P("Blocked drain floods the Park Street crossing", "other", "Park Street", 51.4540, -2.6010,
      "A wide puddle covers the crossing after any rain; buses splash people waiting.",
      "oak.clever-fox", 16, "in_progress"),
    P("Missing sign for the Harbourside ferry stop", "other", "Narrow Quay", 51.4496, -2.5978,
      "The ferry stop sign has gone, so visitors cannot find where to wait.",
      "helpers.harbour-hannah", 5),
    P("Abandoned bike chained in Broadmead", "other", "Broadmead", 51.4588, -2.5872,
      "A bike with no wheels has been chained to the railings for months.",
      "helpers.bike-lane-bea", 23, "closed",
      closing_note="Tagged by the council and removed after the 14-day notice ran out."),
    P("Dog bin missing on Castle Street", "other", "Castle Street", 51.4573, -2.5860,
      "The dog waste bin has been taken away and not replaced.",
      "resident.dog-walker-dev", 6, "confirmed"),
    P("Water leak bubbling up on Union Street", "other", "Union Street", 51.4572, -2.5893,
      "Clean water bubbling up between paving slabs; reported to the water company too.",
      "resident.morning-jogger", 17, "fixed"),
)

STATUS_PATHS: dict[str, tuple[str, ...]] = {
    "open": (),
    "confirmed": ("confirmed",),
    "in_progress": ("confirmed", "in_progress"),
    "fixed": ("confirmed", "in_progress", "fixed"),
    "closed": ("closed",),
}

STATUS_NOTES = {
    "confirmed": "Checked on site: it is there as described. Thank you for reporting it.",
    "in_progress": "Booked with the street-care crew; work starts this week.",
    "fixed": "Repaired. Thank you to everyone who reported and followed this.",
}

# --- the quests ----------------------------------------------------------------------------

QUESTS: tuple[QuestPlan, ...] = (
    QuestPlan("castle-park-litter", "Litter pick round the Castle Park bandstand",
              "The bins by the bandstand overflow every weekend and litter blows onto the grass where "
              "families picnic. An hour with a litter picker makes a real difference. Wear gloves; "
              "under-16s go with a grown-up.",
              30, "easy", "solo", "A photo of your filled bags and where you left them for collection.",
              "council.sam", timedelta(days=2), "Overflowing bins by the Castle Park bandstand"),
    QuestPlan("king-street-lights", "Light-spotting walk on King Street",
              "The council can only fix lights it knows about. Walk King Street at dusk (with a grown-up "
              "if you are under 16) and note the number on every lamp-post that is out or flickering.",
              20, "easy", "solo", "The lamp-post numbers you found dark, and the time of your walk.",
              "council.sam", timedelta(hours=5), "Street light out on King Street"),
    QuestPlan("old-market-fly-tip", "Pin down the Old Market fly-tip",
              "The bulky waste crew needs an exact spot and a clear photo to collect the dumped mattress "
              "and sofa. Do not touch or move anything: just record it.",
              60, "medium", "solo", "Two photos from different sides and the nearest lamp-post or bus stop number.",
              "council.sam", timedelta(hours=28), "Mattress and sofa dumped on Old Market Street"),
    QuestPlan("harbourside-pick", "Big Harbourside litter pick",
              "Take your team along the harbour from Narrow Quay to Canon's Road and clear the litter "
              "before it reaches the water. Pickers, gloves and bags can be borrowed from the Watershed.",
              250, "hard", "team", "Team photo with the bags, how many bags, and the stretch you covered.",
              "volunteers.jo", timedelta(days=3)),
    QuestPlan("christmas-steps-clean", "Christmas Steps spring clean",
              "Weeds and trapped litter make the old steps slippery. Sweep and weed the steps together; "
              "the council lends brooms and takes the green waste.",
              150, "medium", "team", "Before and after photos from the top of the steps.",
              "council.sam", timedelta(hours=4), "Weeds and litter on Christmas Steps"),
    QuestPlan("brandon-hill-brambles", "Cut back the Brandon Hill brambles",
              "Brambles now block half the steps up Brandon Hill, so pushchairs and wheelchairs cannot "
              "pass. Adults only: loppers and thick gloves needed. Park rangers will collect the cuttings.",
              300, "hard", "team", "Before and after photos of the steps, and the ranger's name who collected.",
              "volunteers.jo", timedelta(days=9), "Brambles blocking the Brandon Hill steps"),
    QuestPlan("queen-square-benches", "Bench check in Queen Square",
              "Some benches in Queen Square are broken. Check every bench round the square and list "
              "which ones are safe, so the council can repair the worst first.",
              40, "medium", "solo", "A list of the benches you checked (by side of the square) and any damage.",
              "council.sam", None, "Broken bench slats in Queen Square"),
    QuestPlan("welsh-back-potholes", "Pothole watch on Welsh Back",
              "Cyclists use Welsh Back every day. Photograph the potholes in the cycle lane next to "
              "something for scale, so the repair crew brings enough material.",
              25, "easy", "solo", "Photos of each pothole with a coin or shoe beside it for scale.",
              "council.sam", None, "Cluster of potholes in the Welsh Back cycle lane"),
    QuestPlan("safe-route-survey", "Safe route to school survey",
              "Walk your usual route to school as a class and mark anything that makes it feel unsafe: "
              "dark corners, broken paving, missing crossings.",
              120, "medium", "team", "A simple map or list of what you found, street by street.",
              "teacher.patel", timedelta(days=6)),
    QuestPlan("lewins-mead-tags", "Log the tags in the Lewins Mead underpass",
              "The removal team cleans walls by the square metre. Log every tag in the underpass with a "
              "photo and rough size so they can plan one visit.",
              80, "hard", "solo", "Numbered photos of each tag with a rough size in metres.",
              "council.sam", timedelta(days=12), "Graffiti in the Lewins Mead underpass"),
)

CLAIMS: tuple[ClaimPlan, ...] = (
    ClaimPlan("castle-park-litter", "oak.swift-otter", "approved", 5, "Filled two bags with my son by the bandstand."),
    ClaimPlan("castle-park-litter", "oak.brave-badger", "approved", 4.5, "One full bag, mostly cans and crisp packets."),
    ClaimPlan("castle-park-litter", "willow.happy-hedgehog", "approved", 4, "Picked along the path to the bandstand: two bags."),
    ClaimPlan("castle-park-litter", "helpers.bike-lane-bea", "approved", 3.5, "Three bags from the grass by the river wall."),
    ClaimPlan("welsh-back-potholes", "oak.swift-otter", "approved", 3, "Four potholes, each photographed next to my trainer."),
    ClaimPlan("welsh-back-potholes", "resident.morning-jogger", "approved", 6, "Photos of all four with a 2p coin for scale."),
    ClaimPlan("queen-square-benches", "willow.happy-hedgehog", "approved", 2.5,
              "North side: 4 benches fine. East side: 1 with snapped slats. South and west: fine."),
    ClaimPlan("queen-square-benches", "helpers.tidy-tom", "approved", 5.5, "Checked 16 benches; two need new slats (east side)."),
    ClaimPlan("king-street-lights", "willow.nimble-newt", "approved", 2, "Lamp-posts 14 and 17 were dark at 7pm."),
    ClaimPlan("king-street-lights", "resident.morning-jogger", "approved", 1.5, "Posts 14 and 17 dark, 21 flickering, at 6:45am."),
    ClaimPlan("old-market-fly-tip", "helpers.tidy-tom", "approved", 3, "Photos from both sides; it is by bus stop OM4."),
    ClaimPlan("lewins-mead-tags", "helpers.harbour-hannah", "approved", 4, "23 tags logged, about 14 square metres in all."),
    ClaimPlan("harbourside-pick", "oak.quiet-heron", "approved", 6, "Oak Class families filled 11 bags from Narrow Quay to the Arnolfini.",
              team=OAK, reviewer="teacher.okafor"),
    ClaimPlan("harbourside-pick", "helpers.tidy-tom", "approved", 5, "Helpers filled 17 bags along Canon's Road.", team=HELPERS),
    ClaimPlan("safe-route-survey", "willow.sunny-wren", "approved", 3.5, "Our map shows 6 places: 2 dark corners and 4 broken slabs.",
              team=WILLOW, reviewer="teacher.patel"),
    ClaimPlan("safe-route-survey", "oak.bright-kestrel", "approved", 2, "We found a missing crossing on Marsh Street and 3 dark lamps.",
              team=OAK, reviewer="teacher.okafor"),
    ClaimPlan("brandon-hill-brambles", "helpers.marsh-street-mo", "approved", 2.5,
              "Cleared the whole width of the steps; ranger Ali took the cuttings.", team=HELPERS),
    # Waiting for review.
    ClaimPlan("old-market-fly-tip", "oak.clever-fox", "submitted", 0.5, "Photo from the bus stop side, next to stop OM4."),
    ClaimPlan("christmas-steps-clean", "willow.busy-beaver", "submitted", 0.4,
              "Willow Class families swept the steps from top to bottom; before and after photos attached.", team=WILLOW),
    # Rejected, with the reason the claimant sees.
    ClaimPlan("lewins-mead-tags", "resident.dog-walker-dev", "rejected", 2,
              "Photos of the painted walls on Nelson Street.",
              reason="These are the Nelson Street murals, which are permitted art. The tags to log are in "
                     "the Lewins Mead underpass: please try again there."),
    # Taken, not yet submitted.
    ClaimPlan("queen-square-benches", "willow.gentle-deer", "taken", 1),
    ClaimPlan("king-street-lights", "oak.jolly-puffin", "taken", 0.3),
    # A school class's children (made on the class's creation, see CLASS): their teacher checks
    # and approves their work; one piece still waits in the teacher's "Pupils' work".
    ClaimPlan("castle-park-litter", "class.1", "approved", 3, "We picked up litter by the bandstand with Ms Patel.",
              reviewer="teacher.patel"),
    ClaimPlan("queen-square-benches", "class.2", "approved", 2, "We checked the benches on the north side: all fine.",
              reviewer="teacher.patel"),
    ClaimPlan("king-street-lights", "class.3", "submitted", 0.5, "Two lamps were dark near the theatre."),
)

# A real school class (classes/): its children have no email and log in with printed cards,
# and nothing about them is public. Made once, on the demo's first run, when its cards are
# printed (their secrets are shown only then: reset them on the class page for new ones).
CLASS = ("Year 6 Oak Class", "teacher.patel", 8)


# --- loading -------------------------------------------------------------------------------

class DemoRefused(click.ClickException):
    """The demo would be unsafe or would clash with data it did not make."""


def category_for(planned: str, categories: tuple[str, ...]) -> str:
    """The planned category, or 'other' (else the first category) when this site does not
    use it, so the demo loads under any FIXQUEST_CATEGORIES."""
    if planned in categories:
        return planned
    return "other" if "other" in categories else categories[0]


class DemoLoader:
    """Makes whatever part of the demo town is missing. One instance, one transaction."""

    def __init__(self, session: Session, *, now: datetime, categories: tuple[str, ...],
                 hash_method: str, min_password: int):
        self.session = session
        self.now = now
        self.categories = categories
        self.hash_method = hash_method
        self.min_password = min_password
        self.made: Counter[str] = Counter()
        self.people: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.problems: dict[str, Problem] = {}
        self.quests: dict[str, Quest] = {}
        self.cards: list = []  # the school class's login cards, when this run made the class
        self.school_class_code = ""

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def load(self) -> Counter[str]:
        for person in PEOPLE:
            self.people[person.key] = self.person(person)
        for plan in TEAMS:
            self.teams[plan.name] = self.team(plan)
        for plan in PROBLEMS:
            self.problems[plan.title] = self.problem(plan)
        self.neighbours_confirm()
        for plan in QUESTS:
            self.quests[plan.key] = self.quest(plan)
        self.school_class()
        for plan in CLAIMS:
            self.claim(plan)
        self.campaigns()
        self.game_feel()
        return self.made

    def person(self, plan: Person) -> User:
        user = self.session.scalar(select(User).where(User.email == plan.email))
        if user is None:
            user = accounts.create_user(self.session, email=plan.email, password=DEMO_PASSWORD,
                                        display_name=plan.display_name, role=plan.role, verified=True,
                                        min_password=self.min_password, hash_method=self.hash_method)
            self.made["accounts"] += 1
        return user

    def team(self, plan: TeamPlan) -> Team:
        captain = self.people[plan.captain]
        team = self.session.scalar(select(Team).where(Team.name == plan.name))
        if team is None:
            team = accounts.create_team(self.session, actor=captain, name=plan.name)
            self.made["teams"] += 1
        elif team.captain_id != captain.id:
            raise DemoRefused(f"A team called {plan.name!r} already exists and the demo did not make it; "
                              "load the demo into a fresh database.")
        for key in plan.members:
            member = self.people[key]
            if not accounts.is_member(self.session, user_id=member.id, team_id=team.id):
                accounts.join_team(self.session, actor=member, code=team.join_code)
                self.made["memberships"] += 1
        return team

    def problem(self, plan: ProblemPlan) -> Problem:
        reporter = self.people[plan.reporter]
        problem = self.session.scalar(select(Problem).where(Problem.title == plan.title,
                                                            Problem.reporter_id == reporter.id))
        if problem is not None:
            return problem
        reported_at = self.ago(plan.days_ago)
        problem = challenges.report_problem(
            self.session, actor=reporter, title=plan.title, description=plan.description,
            category=category_for(plan.category, self.categories), lat=plan.lat, lon=plan.lon,
            address=plan.address, categories=self.categories, now=reported_at)
        self.made["problems"] += 1
        self.follow_status_path(problem, plan, reported_at)
        return problem

    def neighbours_confirm(self) -> None:
        """One report, many people: neighbours who saw the same problems say so (a
        different, fixed handful for each problem), so the counts and "most affected"
        order mean something in the demo."""
        residents = [user for key, user in sorted(self.people.items()) if not user.is_organiser]
        for index, problem in enumerate(self.problems.values()):
            for offset in range(index % 5):
                neighbour = residents[(index * 7 + offset * 3) % len(residents)]
                if neighbour.id == problem.reporter_id or tracker.has_confirmed(
                        self.session, user_id=neighbour.id, problem_id=problem.id):
                    continue
                tracker.confirm(self.session, actor=neighbour, problem=problem)
                self.made["confirmations"] += 1

    def follow_status_path(self, problem: Problem, plan: ProblemPlan, reported_at: datetime) -> None:
        """Walk the problem to its planned status one public update at a time, spread evenly
        between the report and a little before now."""
        steps = STATUS_PATHS[plan.status]
        gap = (self.now - reported_at) / (len(steps) + 1)
        for n, status in enumerate(steps, start=1):
            note = plan.closing_note if status == "closed" else STATUS_NOTES[status]
            challenges.change_status(self.session, actor=self.people[plan.handler], problem=problem,
                                     status=status, note=note, now=reported_at + gap * n)
            self.made["status changes"] += 1

    def quest(self, plan: QuestPlan) -> Quest:
        author = self.people[plan.author]
        quest = self.session.scalar(select(Quest).where(Quest.title == plan.title,
                                                        Quest.created_by_id == author.id))
        if quest is not None:
            return quest
        problem_id = self.problems[plan.problem].id if plan.problem else None
        quest = challenges.create_quest(
            self.session, actor=author, title=plan.title, brief=plan.brief, points=plan.points,
            difficulty=plan.difficulty, mode=plan.mode, evidence_wanted=plan.evidence_wanted,
            ends_at=self.now + plan.ends_in if plan.ends_in else None, problem_id=problem_id,
            now=self.ago(plan.days_ago))
        self.made["quests"] += 1
        return quest

    def claim(self, plan: ClaimPlan) -> None:
        quest = self.quests[plan.quest]
        claimant = self.people[plan.claimant]
        team_id = self.teams[plan.team].id if plan.team else None
        exists = self.session.scalar(select(Claim.id).where(
            Claim.quest_id == quest.id, Claim.user_id == claimant.id,
            Claim.team_id.is_(None) if team_id is None else Claim.team_id == team_id))
        if exists is not None:
            return
        taken_at = self.ago(plan.days_ago)
        claim = challenges.claim_quest(self.session, actor=claimant, quest=quest, team_id=team_id, now=taken_at)
        if plan.outcome != "taken":
            challenges.submit_evidence(self.session, actor=claimant, claim=claim, evidence=plan.evidence,
                                       now=taken_at + timedelta(hours=3))
        if plan.outcome in ("approved", "rejected"):
            decided_at = min(taken_at + timedelta(hours=20), self.now - timedelta(minutes=30))
            reviews.review_claim(self.session, actor=self.people[plan.reviewer], claim=claim,
                                    decision="approve" if plan.outcome == "approved" else "reject",
                                    reason=plan.reason, now=decided_at)
        self.made[f"claims {plan.outcome}"] += 1

    def school_class(self) -> None:
        """The class and its children (people "class.1", "class.2", ... in card order)."""
        from classes import services as classes
        from classes.models import ClassChild, SchoolClass

        name, teacher, size = CLASS
        found = self.session.scalar(select(SchoolClass).join(Team, Team.id == SchoolClass.team_id)
                                    .where(Team.name == name))
        if found is None:
            found, self.cards = classes.create_class(self.session, actor=self.people[teacher], name=name, size=size,
                                                     secret_kind="password", hash_method=self.hash_method,
                                                     now=self.ago(30))
            self.made["children (school class)"] += size
        children = self.session.scalars(select(User).join(ClassChild, ClassChild.user_id == User.id)
                                        .where(ClassChild.class_id == found.id).order_by(ClassChild.id))
        for n, child in enumerate(children, start=1):
            self.people[f"class.{n}"] = child
        self.school_class_code = found.code

    def campaigns(self) -> None:
        """A campaign running around the Old City, and a proposal in the community's vote."""
        from campaigns import services as campaign_services
        from campaigns.models import Campaign
        from maps.area import Circle

        plans = (("Twenty fixes for the Old City", "The streets everyone walks through, fixed by everyone.", None),
                 ("Light up the underpasses", "Dark underpasses keep people at home after dusk.", timedelta(days=5)))
        for title, why, vote_for in plans:
            if self.session.scalar(select(Campaign.id).where(Campaign.title == title)) is not None:
                continue
            campaign_services.create_campaign(
                self.session, actor=self.people["council.sam"], title=title, why=why,
                area=Circle(DEMO_CENTRE[0], DEMO_CENTRE[1], DEMO_RADIUS_KM * 1000), categories=(),
                all_categories=self.categories, goal=20, ends_at=self.now + timedelta(days=90),
                starts_at=None if vote_for else self.ago(60),
                vote_until=self.now + vote_for if vote_for else None, now=self.now)
            self.made["campaigns"] += 1


    def game_feel(self) -> None:
        """What the home page and the dashboard show off: a school term running now (the
        impact numbers count it), a saved area for Tidy Tom (his quests near him), and
        thanks from Harbour Hannah for fixes she was not part of (Tom's first)."""
        from accounts import kudos
        from accounts.models import Kudos
        from challenges.models import ClaimStatus, Subscription, SubscriptionKind
        from scoring.models import Season

        today = self.now.date()
        term = "Autumn" if today.month >= 9 else "Spring" if today.month <= 3 else "Summer"
        name = f"{term} term {today.year}"
        if self.session.scalar(select(Season.id).where(Season.name == name)) is None:
            self.session.add(Season(name=name, starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=30)))
            self.made["seasons"] += 1
        tom = self.people["helpers.tidy-tom"]
        if self.session.scalar(select(Subscription.id).where(Subscription.user_id == tom.id,
                                                             Subscription.kind == SubscriptionKind.area.value)) is None:
            tracker.subscribe_area(self.session, actor=tom, lat=DEMO_CENTRE[0], lon=DEMO_CENTRE[1], radius_m=1500)
            self.made["saved areas"] += 1
        hannah = self.people["helpers.harbour-hannah"]
        if self.session.scalar(select(Kudos.id).where(Kudos.giver_id == hannah.id).limit(1)) is None:
            fixes = self.session.scalars(select(Claim).where(Claim.status == ClaimStatus.approved.value,
                                                             Claim.user_id != hannah.id, Claim.team_id.is_(None))
                                         .order_by(case((Claim.user_id == tom.id, 0), else_=1), Claim.id).limit(3))
            for claim in fixes:
                kudos.give_kudos(self.session, actor=hannah, claim=claim, now=self.now)
                self.made["thank-yous"] += 1


# --- the command ---------------------------------------------------------------------------

def _echo_summary(made: Counter[str]) -> None:
    if not made:
        click.echo("Nothing to do: the demo town is already loaded.")
        return
    click.echo("Loaded:")
    for kind in ("accounts", "children (school class)", "teams", "memberships", "problems", "status changes",
                 "quests", "claims approved", "claims submitted", "claims rejected", "claims taken",
                 "seasons", "saved areas", "thank-yous"):
        if made[kind]:
            click.echo(f"  {made[kind]:>3} {kind}")


def _echo_logins(loader: DemoLoader) -> None:
    click.echo(f"\nDemo logins (every account's password: {DEMO_PASSWORD}):")
    email_width = max(len(person.email) for person in PEOPLE)
    name_width = max(len(person.display_name) for person in PEOPLE)
    for person in PEOPLE:
        click.echo(f"  {person.role:<11} {person.email:<{email_width}}  {person.display_name:<{name_width}}  "
                   f"{person.about}")
    name, teacher, _ = CLASS
    click.echo(f"\nSchool class {name!r} (class code {loader.school_class_code}, teacher "
               f"{loader.people[teacher].display_name}): children log in at /classes/login")
    if loader.cards:
        for card in loader.cards:
            click.echo(f"  card {card.card_name:<20} password {card.secret}")
    else:
        click.echo("  (its cards were printed when the class was made; the teacher resets them on the class page)")
    click.echo("\nTeams (join codes):")
    for plan in TEAMS:
        team = loader.teams[plan.name]
        click.echo(f"  {team.name:<22} {team.join_code}  captain {loader.people[plan.captain].display_name}, "
                   f"{len(plan.members)} members")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load (or top up) the demo town: people, teams, problems, quests and claims.

    Safe to run again: existing demo data is kept and nothing is duplicated. All demo
    accounts share one published password, so the command refuses to run in production.
    """
    config = current_app.config
    if config.get("FIXQUEST_ENV") == "production":
        raise DemoRefused("The demo publishes its accounts' password; it does not run with FIXQUEST_ENV=production.")
    loader = DemoLoader(db.session, now=utcnow(), categories=tuple(config["CATEGORIES"]),
                        hash_method=config["PASSWORD_HASH_METHOD"], min_password=config["MIN_PASSWORD_LENGTH"])
    click.echo(f"FixQuest demo town: {DEMO_TOWN}, around {DEMO_CENTRE[0]:.4f}, {DEMO_CENTRE[1]:.4f}")
    try:
        made = loader.load()
    except DomainError as failure:
        db.session.rollback()
        raise DemoRefused(f"The demo could not be loaded: {failure.message} {failure.fields or ''}".strip()) from None
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    _echo_summary(made)
    _echo_logins(loader)
    jobs = current_app.extensions["fixquest.jobs"]
    if isinstance(jobs, ThreadJobQueue):  # without Redis the notifications go out from this process:
        jobs.join(120)                    # let them finish before it exits (with Redis, the worker sends them)
