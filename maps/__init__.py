"""The public map of problems (/map) and the place helpers behind it.

  area.py      bounding boxes and circles read from query strings (pure)
  services.py  which problems the map, the GeoJSON layer (api/geojson.py) and the feeds show
  views.py     the /map page: a Leaflet map over a plain, paginated list that works alone
  its stylesheet is static/maps.css and its scripts are in static/js/
"""
