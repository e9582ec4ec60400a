"""Curated words for children's pseudonyms and secrets: an adjective and an animal or
nature word ("Brave Otter"). Checked by hand: kind, easy to read aloud and to spell, no
word that is unkind, scary or a common surname, and no pair that reads badly."""
from __future__ import annotations

import secrets

ADJECTIVES = (
    "Amber", "Bold", "Brave", "Bright", "Bouncy", "Calm", "Clever", "Cosy", "Curious", "Dashing",
    "Eager", "Fancy", "Fluffy", "Friendly", "Gentle", "Giddy", "Golden", "Happy", "Helpful", "Jolly",
    "Kind", "Lively", "Lucky", "Merry", "Mighty", "Nimble", "Plucky", "Proud", "Quick", "Quiet",
    "Rapid", "Shiny", "Silver", "Sleepy", "Sparkly", "Speedy", "Sunny", "Swift", "Tidy", "Witty",
)

NATURE_WORDS = (
    "Badger", "Beaver", "Bee", "Blackbird", "Butterfly", "Cloud", "Comet", "Dolphin", "Falcon", "Fern",
    "Fox", "Frog", "Hare", "Hedgehog", "Heron", "Kestrel", "Koala", "Ladybird", "Maple", "Meadow",
    "Mole", "Moth", "Oak", "Otter", "Owl", "Panda", "Pebble", "Penguin", "Puffin", "Rabbit",
    "Raven", "Robin", "Seal", "Squirrel", "Swallow", "Tiger", "Toad", "Turtle", "Willow", "Wren",
)

# A picture-PIN is four of these in order. Each has a word, so cards, screen readers and
# children who cannot see the symbol all name it the same way.
PICTURES = (
    ("sun", "Sun", "\u2600\ufe0f"), ("moon", "Moon", "\U0001F319"), ("star", "Star", "\u2b50"),
    ("tree", "Tree", "\U0001F333"), ("cat", "Cat", "\U0001F431"), ("dog", "Dog", "\U0001F436"),
    ("fish", "Fish", "\U0001F41F"), ("boat", "Boat", "\u26f5"),
)
PICTURE_CODES = tuple(code for code, _, _ in PICTURES)
PICTURE_NAMES = {code: name for code, name, _ in PICTURES}
PICTURE_SYMBOLS = {code: symbol for code, _, symbol in PICTURES}
PIN_LENGTH = 4


def pseudonym() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(NATURE_WORDS)}"


def is_safe_pseudonym(name: str) -> bool:
    parts = name.split(" ")
    return len(parts) == 2 and parts[0] in ADJECTIVES and parts[1] in NATURE_WORDS


def password() -> str:
    """Easy to type from a card: two lower-case words and two digits (about 18 bits from
    1,600 word pairs times 90 numbers). Guessing is held back by the card lock-out."""
    return f"{secrets.choice(ADJECTIVES).lower()}-{secrets.choice(NATURE_WORDS).lower()}-{secrets.randbelow(90) + 10}"


def picture_pin() -> tuple[str, ...]:
    return tuple(secrets.choice(PICTURE_CODES) for _ in range(PIN_LENGTH))


def pin_secret(pictures: tuple[str, ...] | list[str]) -> str:
    """The string a picture-PIN is hashed as."""
    return "pictures:" + "-".join(pictures)
