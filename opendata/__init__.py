"""Open data: a catalogue of public datasets (problems, quests, fixes, leaderboards, campaign
progress) served as streamed CSV, JSON and GeoJSON under /data, with a licence and a
described schema. Nothing personal: no emails, no children, display names only for adults
who show on boards."""
