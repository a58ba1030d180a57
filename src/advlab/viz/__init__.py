"""Pictures: compute functions return plain dataclasses of arrays; Displays draw them."""

from advlab.viz.colors import class_color, class_colors, region_rgba
from advlab.viz.regions import RegionData, RegionDisplay, compute_regions, draw_boundaries

__all__ = ["RegionData", "RegionDisplay", "class_color", "class_colors", "compute_regions", "draw_boundaries", "region_rgba"]
