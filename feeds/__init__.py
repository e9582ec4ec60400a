"""Atom 1.0 feeds of problems and their updates, under /feeds/.

  atom.py      a small Atom writer (standard library only): plain data in, XML out
  services.py  what each feed holds (public columns and display names only)
  entries.py   problems and updates as entries: titles, text, tag: ids
  views.py     the routes: /feeds/problems.atom, /feeds/problems/<id>.atom,
               /feeds/category/<category>.atom, /feeds/area.atom?bbox=... or ?lat=&lon=&radius_m=
"""
