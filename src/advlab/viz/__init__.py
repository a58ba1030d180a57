"""Pictures: compute functions return plain dataclasses of arrays; Displays draw them.

2-D regions (``compute_regions``/``RegionDisplay``), slices of input space through three points
(``compute_slice``/``SliceDisplay``), church windows, probability profiles, model comparisons,
region connectivity, training animations, adversarial galleries and transfer matrices.
"""

from advlab.viz.animation import SliceAnimation, SliceFrame, SliceRecorder, frames_from_models
from advlab.viz.church import ChurchData, ChurchDisplay, compute_church_windows
from advlab.viz.colors import class_color, class_colors, region_rgba
from advlab.viz.compare import CompareData, CompareDisplay, compare_slices
from advlab.viz.components import ConnectivitySearch, component_counts, count_components, find_connecting_slice
from advlab.viz.fooling_grid import FoolingGridData, FoolingGridDisplay, fooling_grid
from advlab.viz.gallery import AdversarialGallery, GalleryData, gallery_data
from advlab.viz.profiles import ProfileData, ProfileDisplay, compute_profiles
from advlab.viz.regions import RegionData, RegionDisplay, compute_regions, draw_boundaries
from advlab.viz.slice_display import SliceDisplay
from advlab.viz.slice_geometry import SliceGeometry, slice_geometry
from advlab.viz.slices import SliceData, compute_slice
from advlab.viz.third_points import adversarial_of, third_point
from advlab.viz.transfer_display import TransferDisplay

__all__ = [
    "AdversarialGallery",
    "ChurchData",
    "ChurchDisplay",
    "CompareData",
    "CompareDisplay",
    "ConnectivitySearch",
    "FoolingGridData",
    "FoolingGridDisplay",
    "GalleryData",
    "ProfileData",
    "ProfileDisplay",
    "RegionData",
    "RegionDisplay",
    "SliceAnimation",
    "SliceData",
    "SliceDisplay",
    "SliceFrame",
    "SliceGeometry",
    "SliceRecorder",
    "TransferDisplay",
    "adversarial_of",
    "class_color",
    "class_colors",
    "compare_slices",
    "component_counts",
    "compute_church_windows",
    "compute_profiles",
    "compute_regions",
    "compute_slice",
    "count_components",
    "draw_boundaries",
    "find_connecting_slice",
    "fooling_grid",
    "frames_from_models",
    "gallery_data",
    "region_rgba",
    "slice_geometry",
    "third_point",
]
