"""Reports: the typed report model and its renderings (JSON, CSV, HTML), provenance,
and the thumbnails shown for matched images."""
