"""Problems, their public history, quests, claims and reviews."""
