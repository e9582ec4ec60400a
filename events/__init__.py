"""Events ("jams"): time-boxed contests with a set of quests, registered entries, a live
scoreboard, an optional freeze before the end, final results, certificates and badges."""
