"""The home page's data: what a participant can do now, the place's impact, first run."""
