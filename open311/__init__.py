"""Open311 GeoReport v2 server at /open311/v2/: problems are service requests, categories
are services. See the README section "Open311 GeoReport v2"."""
