"""Photos on problems, updates and claims' evidence: checked by content, cleaned of all
metadata, stored through a small storage interface and served with thumbnails.

images.py (pure checks and re-encoding), storage.py (PhotoStorage and its backends),
services.py (save_photo, save_photos, photos_for), views.py (the serving blueprint).
"""
